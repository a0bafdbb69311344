#include "media/ts_muxer.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "media/bit_reader.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
}

namespace chiron::media {
namespace {

constexpr int kIoBufferBytes = 32 * 1024;
constexpr AVRational kMillis{1, 1000};

uint32_t read_be(std::string_view s, size_t pos, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(s[pos + i]);
  return v;
}


std::string av_error_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

Status av_status(std::string_view what, int err) {
  return Status::internal(std::string(what) + ": " + av_error_text(err));
}

struct FormatDeleter {
  void operator()(AVFormatContext* f) const { avformat_free_context(f); }
};
struct IoDeleter {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);  // may have been reallocated by libavformat; not freed by avio_context_free
    avio_context_free(&io);
  }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};

#if LIBAVFORMAT_VERSION_MAJOR >= 61
int append_output(void* opaque, const uint8_t* buf, int size) {
#else
int append_output(void* opaque, uint8_t* buf, int size) {
#endif
  static_cast<std::string*>(opaque)->append(reinterpret_cast<const char*>(buf), size);
  return size;
}

Status set_extradata(AVCodecParameters* par, std::string_view bytes) {
  par->extradata = static_cast<uint8_t*>(av_mallocz(bytes.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!par->extradata) return Status::resource_exhausted("extradata: out of memory");
  std::memcpy(par->extradata, bytes.data(), bytes.size());
  par->extradata_size = static_cast<int>(bytes.size());
  return Status();
}

}  // namespace

Result<int> ts_check_avc_config(std::string_view r) {
  // configurationVersion, profile, compatibility, level, 6 bits reserved + lengthSizeMinusOne,
  // 3 bits reserved + numOfSequenceParameterSets, then (16-bit length, SPS)...
  if (r.size() < 7) return Status::invalid_argument("AVC configuration record: " + std::to_string(r.size()) + " bytes, need 7");
  if (static_cast<uint8_t>(r[0]) != 1)
    return Status::invalid_argument("AVC configuration record: version " + std::to_string(static_cast<uint8_t>(r[0])) + ", expected 1");
  const int length_size = (static_cast<uint8_t>(r[4]) & 3) + 1;
  if (length_size == 3) return Status::invalid_argument("AVC configuration record: NAL length size 3");
  size_t pos = 5;
  for (int list = 0; list < 2; ++list) {  // SPS list, then PPS list
    if (pos >= r.size()) return Status::invalid_argument("AVC configuration record: truncated before the PPS count");
    const size_t count = list == 0 ? (static_cast<uint8_t>(r[pos]) & 0x1f) : static_cast<uint8_t>(r[pos]);
    ++pos;
    // Parameter sets sent only in-band would leave segments undecodable until they arrive;
    // FLV encoders always fill both lists.
    if (count == 0) return Status::invalid_argument(list == 0 ? "AVC configuration record: no SPS" : "AVC configuration record: no PPS");
    for (size_t i = 0; i < count; ++i) {
      if (pos + 2 > r.size()) return Status::invalid_argument("AVC configuration record: truncated parameter set length");
      const size_t len = read_be(r, pos, 2);
      pos += 2;
      if (len == 0 || len > r.size() - pos) return Status::invalid_argument("AVC configuration record: parameter set overruns the record");
      pos += len;
    }
  }
  return length_size;
}

Status ts_check_avcc_nalus(std::string_view data, int length_size) {
  if (data.empty()) return Status::invalid_argument("AVC frame: no NAL units");
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < static_cast<size_t>(length_size))
      return Status::invalid_argument("AVC frame: truncated NAL unit length at byte " + std::to_string(pos));
    const size_t len = read_be(data, pos, length_size);
    pos += length_size;
    if (len == 0 || len > data.size() - pos)
      return Status::invalid_argument("AVC frame: NAL unit of " + std::to_string(len) + " bytes at byte " +
                                      std::to_string(pos) + " of " + std::to_string(data.size()));
    pos += len;
  }
  return Status();
}

Result<TsAacInfo> ts_check_aac_config(std::string_view asc) {
  static constexpr int kRates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350};
  static constexpr int kChannels[8] = {0, 1, 2, 3, 4, 5, 6, 8};
  BitReader br(asc);
  auto object_type = [&br] {
    uint32_t t = br.bits(5);
    return t == 31 ? 32 + br.bits(6) : t;
  };
  uint32_t type = object_type();
  uint32_t freq_index = br.bits(4);
  if (freq_index == 15) br.bits(24);
  const uint32_t channels = br.bits(4);
  if (type == 5 || type == 29) {  // SBR / PS: extension frequency, then the core object type
    if (br.bits(4) == 15) br.bits(24);
    type = object_type();
  }
  // GASpecificConfig: frameLengthFlag, dependsOnCoreCoder, extensionFlag; ADTS has room for none.
  const uint32_t ga_flags = br.bits(3);
  if (br.failed()) return Status::invalid_argument("AudioSpecificConfig: truncated (" + std::to_string(asc.size()) + " bytes)");
  if (type < 1 || type > 4)
    return Status::invalid_argument("AudioSpecificConfig: audio object type " + std::to_string(type) + " cannot be carried in ADTS");
  if (freq_index > 12) return Status::invalid_argument("AudioSpecificConfig: sampling frequency index " + std::to_string(freq_index));
  if (channels > 7) return Status::invalid_argument("AudioSpecificConfig: channel configuration " + std::to_string(channels));
  if (ga_flags != 0) return Status::invalid_argument("AudioSpecificConfig: 960-sample frames, core coder or extension flags");
  return TsAacInfo{kRates[freq_index], kChannels[channels]};
}

struct TsMuxer::Av {
  std::unique_ptr<AVFormatContext, FormatDeleter> fmt;
  std::unique_ptr<AVIOContext, IoDeleter> io;
  std::unique_ptr<AVPacket, PacketDeleter> pkt{av_packet_alloc()};
  std::string out;  // the segment's bytes, appended by append_output
  int video_index = -1;
  int audio_index = -1;
  int64_t last_dts[2] = {AV_NOPTS_VALUE, AV_NOPTS_VALUE};  // per stream, in the stream time base
  // Next continuity_counter per PID, carried from one segment to the next (see close()).
  std::array<uint8_t, 8192> next_cc{};

  void reset() {
    fmt.reset();
    io.reset();
    out.clear();
    video_index = audio_index = -1;
    last_dts[0] = last_dts[1] = AV_NOPTS_VALUE;
  }

  Status write(int index, int64_t dts_ms, int64_t pts_ms, bool key, std::string_view data) {
    if (!fmt) return Status::failed_precondition("ts muxer: no open segment");
    if (index < 0) return Status::failed_precondition("ts muxer: the segment has no such track");
    if (data.size() > static_cast<size_t>(INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE))
      return Status::invalid_argument("ts muxer: frame too large");
    const AVRational tb = fmt->streams[index]->time_base;
    int64_t dts = av_rescale_q(dts_ms, kMillis, tb);
    int64_t pts = av_rescale_q(pts_ms, kMillis, tb);
    if (last_dts[index] != AV_NOPTS_VALUE && dts <= last_dts[index]) dts = last_dts[index] + 1;
    pts = std::max(pts, dts);
    AVPacket* p = pkt.get();
    // Not reference-counted: libavformat copies what it keeps (the bitstream filter and the
    // ADTS sub-muxer do), so the caller's payload is used in place.
    p->buf = nullptr;
    p->data = reinterpret_cast<uint8_t*>(const_cast<char*>(data.data()));
    p->size = static_cast<int>(data.size());
    p->stream_index = index;
    p->dts = dts;
    p->pts = pts;
    p->duration = 0;
    p->flags = key ? AV_PKT_FLAG_KEY : 0;
    const int err = av_write_frame(fmt.get(), p);
    p->data = nullptr;
    p->size = 0;
    if (err < 0) return av_status(index == video_index ? "mpegts video" : "mpegts audio", err);
    last_dts[index] = dts;
    return Status();
  }
};

TsMuxer::TsMuxer() : av_(std::make_unique<Av>()) {}
TsMuxer::~TsMuxer() = default;

bool TsMuxer::is_open() const { return av_->fmt != nullptr; }
bool TsMuxer::has_video() const { return av_->video_index >= 0; }
bool TsMuxer::has_audio() const { return av_->audio_index >= 0; }
size_t TsMuxer::bytes() const { return av_->out.size(); }

void TsMuxer::abandon() { av_->reset(); }

Status TsMuxer::open(std::string_view avc_config, std::string_view aac_config, size_t reserve_bytes) {
  av_->reset();
  if (!av_->pkt) return Status::resource_exhausted("ts muxer: out of memory");
  if (avc_config.empty() && aac_config.empty()) return Status::invalid_argument("ts muxer: no tracks");
  AVFormatContext* raw = nullptr;
  if (int err = avformat_alloc_output_context2(&raw, nullptr, "mpegts", nullptr); err < 0)
    return av_status("mpegts muxer", err);
  std::unique_ptr<AVFormatContext, FormatDeleter> fmt(raw);

  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferBytes));
  if (!buffer) return Status::resource_exhausted("ts muxer: out of memory");
  AVIOContext* io = avio_alloc_context(buffer, kIoBufferBytes, 1, &av_->out, nullptr, append_output, nullptr);
  if (!io) {
    av_free(buffer);
    return Status::resource_exhausted("ts muxer: out of memory");
  }
  av_->io.reset(io);
  fmt->pb = io;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO | AVFMT_FLAG_AUTO_BSF;
  // Timestamps pass through unchanged (no shift to zero), so consecutive segments continue
  // one timeline as HLS requires.
  fmt->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;

  auto add_stream = [&](AVMediaType type, AVCodecID codec, std::string_view config, int& index) -> Status {
    AVStream* st = avformat_new_stream(fmt.get(), nullptr);
    if (!st) return Status::resource_exhausted("ts muxer: out of memory");
    st->time_base = kMillis;
    st->codecpar->codec_type = type;
    st->codecpar->codec_id = codec;
    index = st->index;
    return set_extradata(st->codecpar, config);
  };
  int video_index = -1, audio_index = -1;
  if (!avc_config.empty()) CHIRON_RETURN_IF_ERROR(add_stream(AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_H264, avc_config, video_index));
  if (!aac_config.empty()) {
    auto info = ts_check_aac_config(aac_config);
    if (!info.ok()) return info.status();
    CHIRON_RETURN_IF_ERROR(add_stream(AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_AAC, aac_config, audio_index));
    AVCodecParameters* par = fmt->streams[audio_index]->codecpar;
    par->sample_rate = info->sample_rate;
    par->frame_size = 1024;  // samples per AAC frame (960-sample configurations are refused)
    av_channel_layout_default(&par->ch_layout, info->channels > 0 ? info->channels : 2);
  }

  // A PCR at least every 100 ms (ISO/IEC 13818-1 §2.7.2), whichever track carries it; left at
  // its default the muxer derives the period from a frame rate / frame size FLV does not give.
  av_opt_set_int(fmt->priv_data, "pcr_period", 100, 0);
  av_->out.reserve(reserve_bytes);
  const int err = avformat_write_header(fmt.get(), nullptr);
  if (err < 0) {
    av_->reset();
    return av_status("mpegts header", err);
  }
  av_->fmt = std::move(fmt);
  av_->video_index = video_index;
  av_->audio_index = audio_index;
  return Status();
}

Status TsMuxer::write_video(int64_t dts_ms, int64_t pts_ms, bool keyframe, std::string_view nalus) {
  return av_->write(av_->video_index, dts_ms, pts_ms, keyframe, nalus);
}

Status TsMuxer::write_audio(int64_t dts_ms, std::string_view frame) {
  return av_->write(av_->audio_index, dts_ms, dts_ms, true, frame);
}

Result<std::string> TsMuxer::close() {
  if (!av_->fmt) return Status::failed_precondition("ts muxer: no open segment");
  const int err = av_write_trailer(av_->fmt.get());
  avio_flush(av_->io.get());
  if (err < 0) {
    av_->reset();
    return av_status("mpegts trailer", err);
  }
  // Each muxer numbers its packets from continuity_counter 0. A player that concatenates
  // segments (ffmpeg's hls demuxer, TS-level recorders) would see a counter jump at every
  // boundary and drop the PES in flight there as corrupt, so the counters are renumbered to
  // continue from the previous segment (ISO/IEC 13818-1 §2.4.3.3: +1 mod 16 per packet with
  // payload; packets without payload repeat the last value).
  std::string out = std::move(av_->out);
  for (size_t off = 0; off + 188 <= out.size(); off += 188) {
    auto* p = reinterpret_cast<uint8_t*>(&out[off]);
    if (p[0] != 0x47) break;
    const int pid = ((p[1] & 0x1f) << 8) | p[2];
    uint8_t& cc = av_->next_cc[pid];
    if (p[3] & 0x10) {
      p[3] = static_cast<uint8_t>((p[3] & 0xf0) | cc);
      cc = (cc + 1) & 0x0f;
    } else {
      p[3] = static_cast<uint8_t>((p[3] & 0xf0) | ((cc + 15) & 0x0f));
    }
  }
  av_->reset();
  return out;
}

}  // namespace chiron::media
