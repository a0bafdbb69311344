// Codec configuration parsers for the stream-health numbers: the AVC decoder configuration
// record (ISO/IEC 14496-15 §5.2.4.1) with its first SPS (ISO/IEC 14496-10 §7.3.2.1.1), and the
// AAC AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1).
//
// DESIGN: the SPS is read with a bounds-checked bit reader over an RBSP copy (emulation
// prevention bytes 00 00 03 removed, §7.4.1); every read past the end marks the reader failed,
// so a truncated SPS yields nullopt, never a garbage size. Exp-Golomb codes longer than 32 bits
// are refused.

#include <cstdio>
#include <optional>
#include <string>

#include "media/bit_reader.h"
#include "media/flv.h"

namespace chiron::media {
namespace {

std::string unescape_rbsp(std::string_view nal) {
  std::string out;
  out.reserve(nal.size());
  int zeros = 0;
  for (char c : nal) {
    if (zeros >= 2 && c == 3) {
      zeros = 0;
      continue;
    }
    zeros = c == 0 ? zeros + 1 : 0;
    out.push_back(c);
  }
  return out;
}

void skip_scaling_list(BitReader& r, int size) {
  int last = 8;
  int next = 8;
  for (int j = 0; j < size && !r.failed(); ++j) {
    // delta_scale is -128..127 (§7.4.2.1.1.1); wider values are malformed, not an overflow.
    if (next != 0) {
      const int64_t delta = r.se();
      if (delta < -128 || delta > 127) {
        r.fail();
        return;
      }
      next = static_cast<int>((last + delta + 256) % 256);
    }
    last = next == 0 ? last : next;
  }
}

bool parse_sps(std::string_view nal, AvcConfig& cfg) {
  if (nal.empty() || (static_cast<uint8_t>(nal[0]) & 0x1F) != 7) return false;
  const std::string rbsp = unescape_rbsp(nal.substr(1));
  BitReader r(rbsp);
  const uint32_t profile = r.bits(8);
  r.bits(8);  // constraint flags
  r.bits(8);  // level
  r.ue();     // seq_parameter_set_id
  uint32_t chroma_format_idc = 1;
  bool separate_colour_plane = false;
  switch (profile) {
    case 100: case 110: case 122: case 244: case 44: case 83: case 86: case 118: case 128:
    case 138: case 139: case 134: case 135: {
      chroma_format_idc = r.ue();
      if (chroma_format_idc > 3) return false;
      if (chroma_format_idc == 3) separate_colour_plane = r.flag();
      r.ue();    // bit_depth_luma_minus8
      r.ue();    // bit_depth_chroma_minus8
      r.flag();  // qpprime_y_zero_transform_bypass_flag
      if (r.flag()) {  // seq_scaling_matrix_present_flag
        const int lists = chroma_format_idc != 3 ? 8 : 12;
        for (int i = 0; i < lists && !r.failed(); ++i)
          if (r.flag()) skip_scaling_list(r, i < 6 ? 16 : 64);
      }
      break;
    }
    default: break;
  }
  r.ue();  // log2_max_frame_num_minus4
  const uint32_t poc_type = r.ue();
  if (poc_type == 0) {
    r.ue();  // log2_max_pic_order_cnt_lsb_minus4
  } else if (poc_type == 1) {
    r.flag();  // delta_pic_order_always_zero_flag
    r.se();    // offset_for_non_ref_pic
    r.se();    // offset_for_top_to_bottom_field
    const uint32_t cycle = r.ue();
    if (cycle > 255) return false;
    for (uint32_t i = 0; i < cycle && !r.failed(); ++i) r.se();
  } else if (poc_type != 2) {
    return false;
  }
  r.ue();    // max_num_ref_frames
  r.flag();  // gaps_in_frame_num_value_allowed_flag
  const uint64_t width_mbs = uint64_t{r.ue()} + 1;
  const uint64_t height_map_units = uint64_t{r.ue()} + 1;
  const bool frame_mbs_only = r.flag();
  if (!frame_mbs_only) r.flag();  // mb_adaptive_frame_field_flag
  r.flag();                       // direct_8x8_inference_flag
  uint64_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
  if (r.flag()) {
    crop_left = r.ue();
    crop_right = r.ue();
    crop_top = r.ue();
    crop_bottom = r.ue();
  }
  if (r.failed()) return false;
  // §7.4.2.1.1: crop units depend on the chroma sampling (ChromaArrayType).
  const uint32_t chroma_array_type = separate_colour_plane ? 0 : chroma_format_idc;
  uint64_t crop_x = 1;
  uint64_t crop_y = frame_mbs_only ? 1 : 2;
  if (chroma_array_type != 0) {
    const uint64_t sub_width = chroma_array_type == 3 ? 1 : 2;
    const uint64_t sub_height = chroma_array_type == 1 ? 2 : 1;
    crop_x = sub_width;
    crop_y = sub_height * (frame_mbs_only ? 1 : 2);
  }
  const uint64_t width = width_mbs * 16;
  const uint64_t height = (frame_mbs_only ? 1 : 2) * height_map_units * 16;
  const uint64_t cut_x = crop_x * (crop_left + crop_right);
  const uint64_t cut_y = crop_y * (crop_top + crop_bottom);
  if (cut_x >= width || cut_y >= height || width > 65536 || height > 65536) return false;
  cfg.width = static_cast<uint32_t>(width - cut_x);
  cfg.height = static_cast<uint32_t>(height - cut_y);
  return true;
}

}  // namespace

std::string AvcConfig::codec_string() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "avc1.%02x%02x%02x", profile, compatibility, level);
  return buf;
}

std::optional<AvcConfig> parse_avc_sequence_header(std::string_view body) {
  // FLV video prefix: frame type/codec (AVC = 7), AVCPacketType 0, composition time (3 bytes).
  if (body.size() < 5 || (static_cast<uint8_t>(body[0]) & 0x0F) != 7 || body[1] != 0) return std::nullopt;
  std::string_view rec = body.substr(5);
  // AVCDecoderConfigurationRecord: version, profile, compatibility, level, lengthSize, numSPS.
  if (rec.size() < 6 || rec[0] != 1) return std::nullopt;
  AvcConfig cfg;
  cfg.profile = static_cast<uint8_t>(rec[1]);
  cfg.compatibility = static_cast<uint8_t>(rec[2]);
  cfg.level = static_cast<uint8_t>(rec[3]);
  const int sps_count = static_cast<uint8_t>(rec[5]) & 0x1F;
  if (sps_count == 0 || rec.size() < 8) return std::nullopt;
  const size_t sps_len = (size_t{static_cast<uint8_t>(rec[6])} << 8) | static_cast<uint8_t>(rec[7]);
  if (rec.size() - 8 < sps_len) return std::nullopt;
  if (!parse_sps(rec.substr(8, sps_len), cfg)) return std::nullopt;
  return cfg;
}

std::string AacConfig::codec_string() const { return "mp4a.40." + std::to_string(object_type); }

std::optional<AacConfig> parse_aac_sequence_header(std::string_view body) {
  // FLV audio prefix: format 10 (AAC) in the high nibble, AACPacketType 0.
  if (body.size() < 4 || (static_cast<uint8_t>(body[0]) >> 4) != 10 || body[1] != 0) return std::nullopt;
  BitReader r(body.substr(2));
  AacConfig cfg;
  uint32_t object_type = r.bits(5);
  if (object_type == 31) object_type = 32 + r.bits(6);
  static constexpr uint32_t kRates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                          22050, 16000, 12000, 11025, 8000, 7350};
  const uint32_t index = r.bits(4);
  uint32_t rate = 0;
  if (index == 15) {
    rate = r.bits(24);
  } else if (index < 13) {
    rate = kRates[index];
  } else {
    return std::nullopt;
  }
  const uint32_t channels = r.bits(4);
  if (r.failed() || object_type == 0 || rate == 0) return std::nullopt;
  cfg.object_type = static_cast<uint8_t>(object_type);
  cfg.sample_rate = rate;
  cfg.channels = static_cast<uint8_t>(channels);
  return cfg;
}

}  // namespace chiron::media
