#pragma once
// TsMuxer: one self-contained MPEG-TS segment (ISO/IEC 13818-1) built in memory by libavformat's
// "mpegts" muxer, for the HLS segmenter (hls.h). Internal to the media module.
//
// Input is what FLV carries: H.264 as length-prefixed NAL units (AVCC) with the
// AVCDecoderConfigurationRecord as configuration, AAC as raw frames with the AudioSpecificConfig.
// libavformat does the rewriting HLS players need: with AVFMT_FLAG_AUTO_BSF (on by default) the
// muxer inserts h264_mp4toannexb, which emits Annex B start codes and the SPS/PPS from the
// configuration record in front of IDR pictures; the muxer adds access unit delimiters; AAC
// frames are wrapped in ADTS by the muxer's internal "adts" sub-muxer built from the
// AudioSpecificConfig. A fresh muxer per segment writes PAT/PMT first, so each segment decodes
// on its own; continuity counters are renumbered to run on from the previous segment, so the
// segments also concatenate into one clean TS. Timestamps go in as milliseconds and come out at
// 90 kHz (PES PTS/DTS).
//
// The ts_check_* functions validate the FLV-side bytes before libavformat sees them, so bad
// input becomes a clear Status here instead of a libav log line and an opaque error code.
//
// Not thread-safe (the segmenter calls it from the publisher's thread).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace chiron::media {

// Checks an AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1): version 1, at least one
// SPS and one PPS, every SPS/PPS length inside the record. Returns the NAL unit length size (1, 2 or 4).
Result<int> ts_check_avc_config(std::string_view record);
// Checks that length-prefixed NAL units (ISO/IEC 14496-15 §5.3.4.2) exactly tile `data`,
// none empty, and that there is at least one.
Status ts_check_avcc_nalus(std::string_view data, int length_size);
// Checks an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) far enough for ADTS: an object type
// ADTS can carry (1..4 after SBR/PS signalling), a tabled sampling frequency, channel
// configuration 0..7, no GASpecificConfig flags. Returns the core sampling rate and channels
// (what ADTS headers carry; 0 channels = a program config element decides).
struct TsAacInfo {
  int sample_rate = 0;
  int channels = 0;
};
Result<TsAacInfo> ts_check_aac_config(std::string_view asc);

class TsMuxer {
 public:
  TsMuxer();
  ~TsMuxer();
  TsMuxer(const TsMuxer&) = delete;
  TsMuxer& operator=(const TsMuxer&) = delete;

  // Starts a segment with a video track (when avc_config is non-empty) and/or an audio track
  // (when aac_config is non-empty). The configurations must have passed ts_check_*. Any open
  // segment is dropped. reserve_bytes pre-sizes the output (the previous segment's size).
  Status open(std::string_view avc_config, std::string_view aac_config, size_t reserve_bytes);
  bool is_open() const;
  bool has_video() const;
  bool has_audio() const;

  // One access unit (AVCC NAL units, checked) / one raw AAC frame. Timestamps in ms; a dts equal
  // to the previous one of the same track is nudged by one 90 kHz tick (FLV's millisecond
  // resolution can repeat one, the muxer needs strictly increasing), pts is raised to dts at
  // least. Going backwards is the caller's to prevent.
  Status write_video(int64_t dts_ms, int64_t pts_ms, bool keyframe, std::string_view nalus);
  Status write_audio(int64_t dts_ms, std::string_view frame);

  // Writes the trailer (flushing buffered audio) and returns the segment's bytes; closed after.
  Result<std::string> close();
  // Drops the open segment, if any.
  void abandon();
  // Bytes written so far (libavformat buffers up to 32 KiB more).
  size_t bytes() const;

 private:
  struct Av;
  std::unique_ptr<Av> av_;
};

}  // namespace chiron::media
