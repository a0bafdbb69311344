// onMetaData script bodies (FLV v10.1 §E.5): what the publisher says about its stream.

#include <cmath>
#include <cstdlib>

#include "media/amf0.h"
#include "media/flv.h"

namespace chiron::media {
namespace {

uint32_t to_dimension(const Amf0Value* v) {
  if (v == nullptr) return 0;
  const double d = v->is_string() ? std::atof(v->as_string().c_str()) : v->as_number();
  if (!std::isfinite(d) || d <= 0 || d > 65536) return 0;
  return static_cast<uint32_t>(d);
}

double to_number(const Amf0Value* v) {
  if (v == nullptr) return 0;
  const double d = v->as_number();
  return std::isfinite(d) && d > 0 ? d : 0;
}

}  // namespace

std::optional<StreamMetadata> parse_metadata(std::string_view body) {
  Amf0Reader r(body);
  std::string name;
  if (!r.read_string(name).ok()) return std::nullopt;
  if (name == "@setDataFrame" && !r.read_string(name).ok()) return std::nullopt;
  if (name != "onMetaData") return std::nullopt;
  Amf0Value props;
  if (!r.read(props).ok() || !props.has_properties()) return std::nullopt;
  StreamMetadata m;
  m.width = to_dimension(props.find("width"));
  m.height = to_dimension(props.find("height"));
  m.framerate = to_number(props.find("framerate"));
  if (m.framerate == 0) m.framerate = to_number(props.find("fps"));
  m.video_kbps = to_number(props.find("videodatarate"));
  m.audio_kbps = to_number(props.find("audiodatarate"));
  if (const Amf0Value* e = props.find("encoder")) m.encoder = e->as_string();
  return m;
}

std::string encode_metadata(const StreamMetadata& m) {
  Amf0Value props = Amf0Value::ecma_array();
  if (m.width) props.add("width", Amf0Value::number(m.width));
  if (m.height) props.add("height", Amf0Value::number(m.height));
  if (m.framerate > 0) props.add("framerate", Amf0Value::number(m.framerate));
  if (m.video_kbps > 0) props.add("videodatarate", Amf0Value::number(m.video_kbps));
  if (m.audio_kbps > 0) props.add("audiodatarate", Amf0Value::number(m.audio_kbps));
  if (!m.encoder.empty()) props.add("encoder", Amf0Value::string(m.encoder));
  std::string out;
  amf0_append_string(out, "onMetaData");
  amf0_append(out, props);
  return out;
}

}  // namespace chiron::media
