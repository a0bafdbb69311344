// ar.generator and ar.part (see ar_kernels.h).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "jobs/ar_io.h"
#include "jobs/ar_kernels.h"

namespace chiron::jobs::ar {

namespace {

void write_dims(cluster::ByteWriter& out, Dims d) {
  out.u32(d.t);
  out.u32(d.x);
  out.u32(d.y);
}
Dims read_dims(cluster::ByteReader& in) {
  Dims d;
  d.t = in.u32();
  d.x = in.u32();
  d.y = in.u32();
  return d;
}

void write_floats(cluster::ByteWriter& out, const float* v, size_t n) {
  out.u64(n);
  out.raw(std::string_view(reinterpret_cast<const char*>(v), n * sizeof(float)));
}
// Reads exactly `n` floats (the count on the wire must match).
Status read_floats(cluster::ByteReader& in, float* v, size_t n) {
  const uint64_t count = in.u64();
  if (!in.ok()) return in.status(false);
  if (count != n) return Status::invalid_argument("ar: float array of " + std::to_string(count) + ", expected " + std::to_string(n));
  std::string_view bytes = in.raw(n * sizeof(float));
  if (!in.ok()) return in.status(false);
  if (n > 0) std::memcpy(v, bytes.data(), n * sizeof(float));
  return Status{};
}

bool order_ok(Dims o) {
  return o.t >= 1 && o.x >= 1 && o.y >= 1 && o.t <= kMaxOrderAxis && o.x <= kMaxOrderAxis && o.y <= kMaxOrderAxis &&
         o.volume() >= 2 && o.volume() <= kMaxOrderVolume;
}

// Visits the cells of the ext box that are not in the box (the halo), in ext order, as runs.
template <class Fn>
void for_each_halo_run(Dims ext, Dims order, Fn&& fn) {
  const uint64_t bt = order.t - 1, bx = order.x - 1, by = order.y - 1;
  for (uint64_t t = 0; t < ext.t; ++t) {
    for (uint64_t x = 0; x < ext.x; ++x) {
      const uint64_t row = (t * ext.x + x) * ext.y;
      if (t < bt || x < bx) {
        fn(row, uint64_t{ext.y});  // the whole row is halo
      } else if (by > 0) {
        fn(row, by);  // the cells before the box on y
      }
    }
  }
}

}  // namespace

void write_model(cluster::ByteWriter& out, const Model& m) {
  write_dims(out, m.order);
  out.u64(m.phi.size());
  for (double v : m.phi) out.f64(v);
  out.f64(m.sigma);
  out.u64(m.seed);
}

Status read_model(cluster::ByteReader& in, Model& m) {
  m.order = read_dims(in);
  const uint64_t n = in.u64();
  if (!in.ok()) return in.status(false);
  if (!order_ok(m.order) || n != m.order.volume()) return Status::invalid_argument("ar: model order out of range");
  m.phi.resize(n);
  for (double& v : m.phi) v = in.f64();
  m.sigma = in.f64();
  m.seed = in.u64();
  if (!in.ok()) return in.status(false);
  if (!std::isfinite(m.sigma) || m.sigma < 0) return Status::invalid_argument("ar: bad sigma");
  for (double v : m.phi) {
    if (!std::isfinite(v)) return Status::invalid_argument("ar: coefficient not finite");
  }
  return Status{};
}

void write_config(cluster::ByteWriter& out, const Config& c) {
  write_dims(out, c.size);
  write_dims(out, c.order);
  write_dims(out, c.part);
  write_dims(out, c.padding);
  out.u64(c.seed);
  out.f64(c.acf.alpha);
  out.f64(c.acf.beta);
  out.f64(c.acf.gamma);
  out.str(c.out);
  out.boolean(c.sha256);
  out.boolean(c.fsync);
}

Status read_config(cluster::ByteReader& in, Config& c) {
  c.size = read_dims(in);
  c.order = read_dims(in);
  c.part = read_dims(in);
  c.padding = read_dims(in);
  c.seed = in.u64();
  c.acf.alpha = in.f64();
  c.acf.beta = in.f64();
  c.acf.gamma = in.f64();
  c.out = in.str();
  c.sha256 = in.boolean();
  c.fsync = in.boolean();
  if (!in.ok()) return in.status(false);
  return validate(c);
}

// ---- ar.part ----

void ArPart::write(cluster::ByteWriter& out) const {
  write_model(out, model_);
  out.u64(index_);
  out.u64(t0_);
  out.u64(x0_);
  out.u64(y0_);
  write_dims(out, box_);
  out.boolean(done_);
  if (done_) {
    write_floats(out, values_.data(), values_.size());
    return;
  }
  // Only the halo travels: the box is computed by act().
  const Dims ext = ext_dims(box_, model_.order);
  uint64_t halo = 0;
  for_each_halo_run(ext, model_.order, [&](uint64_t, uint64_t n) { halo += n; });
  out.u64(halo);
  for_each_halo_run(ext, model_.order, [&](uint64_t at, uint64_t n) {
    out.raw(std::string_view(reinterpret_cast<const char*>(ext_.data() + at), n * sizeof(float)));
  });
}

Status ArPart::read(cluster::ByteReader& in) {
  if (Status st = read_model(in, model_); !st.ok()) return st;
  index_ = in.u64();
  t0_ = in.u64();
  x0_ = in.u64();
  y0_ = in.u64();
  box_ = read_dims(in);
  done_ = in.boolean();
  if (!in.ok()) return in.status(false);
  if (box_.t == 0 || box_.x == 0 || box_.y == 0 || box_.volume() > kMaxPartPoints || t0_ + box_.t > kMaxAxis ||
      x0_ + box_.x > kMaxAxis || y0_ + box_.y > kMaxAxis) {
    return Status::invalid_argument("ar.part: box out of range");
  }
  const Dims ext = ext_dims(box_, model_.order);
  if (ext.volume() > kMaxPartExtPoints) return Status::invalid_argument("ar.part: halo too large");
  if (done_) {
    values_.resize(box_.volume());
    return read_floats(in, values_.data(), values_.size());
  }
  ext_.assign(ext.volume(), 0.0f);
  uint64_t halo = 0;
  for_each_halo_run(ext, model_.order, [&](uint64_t, uint64_t n) { halo += n; });
  std::vector<float> flat(halo);
  if (Status st = read_floats(in, flat.data(), flat.size()); !st.ok()) return st;
  uint64_t pos = 0;
  for_each_halo_run(ext, model_.order, [&](uint64_t at, uint64_t n) {
    std::memcpy(ext_.data() + at, flat.data() + pos, n * sizeof(float));
    pos += n;
  });
  return Status{};
}

void ArPart::act() {
  if (cancelled()) return commit(Status::cancelled("job cancelled"));
  const Dims o = model_.order;
  const Dims ext = ext_dims(box_, o);
  if (ext_.size() != ext.volume()) return commit(Status::internal("ar.part: no halo"));
  BoxRef b;
  b.stride_x = ext.y;
  b.stride_t = static_cast<int64_t>(uint64_t{ext.x} * ext.y);
  b.origin = ext_.data() + (o.t - 1) * uint64_t{ext.x} * ext.y + (o.x - 1) * uint64_t{ext.y} + (o.y - 1);
  b.t0 = t0_;
  b.x0 = x0_;
  b.y0 = y0_;
  b.box = box_;
  filter_box(model_, b);
  values_.resize(box_.volume());
  float* w = values_.data();
  for (uint32_t t = 0; t < box_.t; ++t) {
    for (uint32_t x = 0; x < box_.x; ++x) {
      std::memcpy(w, b.origin + t * b.stride_t + x * b.stride_x, box_.y * sizeof(float));
      w += box_.y;
    }
  }
  std::vector<float>().swap(ext_);
  done_ = true;
  commit();
}

// ---- ar.generator ----

ArGenerator::~ArGenerator() {
  if (fd_ >= 0) ::close(fd_);
}

void ArGenerator::write(cluster::ByteWriter& out) const {
  write_config(out, config_);
  write_model(out, model_);
  out.u64(parts_total_);
  out.u64(bytes_written_);
}

Status ArGenerator::read(cluster::ByteReader& in) {
  if (Status st = read_config(in, config_); !st.ok()) return st;
  if (Status st = read_model(in, model_); !st.ok()) return st;
  parts_total_ = in.u64();
  bytes_written_ = in.u64();
  if (in.ok() && !(model_.order == config_.order)) return Status::invalid_argument("ar.generator: order mismatch");
  return in.status(false);
}

void ArGenerator::act() {
  const Dims pd = config_.padded();
  const Dims b = config_.part;
  grid_ = {(pd.t + b.t - 1) / b.t, (pd.x + b.x - 1) / b.x, (pd.y + b.y - 1) / b.y};
  parts_total_ = grid_.volume();
  bytes_written_ = 0;
  fd_ = ::open(config_.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return commit(Status::from_errno("ar: open " + config_.out, errno));
  if (::ftruncate(fd_, static_cast<off_t>(config_.size.volume() * sizeof(float))) != 0) {
    return commit(Status::from_errno("ar: size " + config_.out, errno));
  }
  pending_.assign(parts_total_, 0);
  succ_left_.assign(parts_total_, 0);
  values_.assign(parts_total_, nullptr);
  for (uint32_t i = 0; i < grid_.t; ++i) {
    for (uint32_t j = 0; j < grid_.x; ++j) {
      for (uint32_t k = 0; k < grid_.y; ++k) {
        const uint64_t p = part_index(i, j, k);
        pending_[p] = static_cast<uint8_t>((1 + (i > 0)) * (1 + (j > 0)) * (1 + (k > 0)) - 1);
        succ_left_[p] = static_cast<uint8_t>((1 + (i + 1 < grid_.t)) * (1 + (j + 1 < grid_.x)) * (1 + (k + 1 < grid_.y)) - 1);
      }
    }
  }
  launch(0);
}

void ArGenerator::launch(uint64_t p) {
  const uint32_t i = static_cast<uint32_t>(p / (uint64_t{grid_.x} * grid_.y));
  const uint32_t j = static_cast<uint32_t>(p / grid_.y % grid_.x);
  const uint32_t k = static_cast<uint32_t>(p % grid_.y);
  const Dims pd = config_.padded(), b = config_.part, o = config_.order;
  const uint64_t t0 = uint64_t{i} * b.t, x0 = uint64_t{j} * b.x, y0 = uint64_t{k} * b.y;
  const Dims box{static_cast<uint32_t>(std::min<uint64_t>(b.t, pd.t - t0)),
                 static_cast<uint32_t>(std::min<uint64_t>(b.x, pd.x - x0)),
                 static_cast<uint32_t>(std::min<uint64_t>(b.y, pd.y - y0))};
  const Dims ext = ArPart::ext_dims(box, o);
  // ext covers padded coordinates [t0−(o.t−1), t0+box.t) × … (negative = outside: zero).
  const int64_t et0 = static_cast<int64_t>(t0) - (o.t - 1), ex0 = static_cast<int64_t>(x0) - (o.x - 1),
                ey0 = static_cast<int64_t>(y0) - (o.y - 1);
  std::vector<float> buf(ext.volume(), 0.0f);
  for (uint32_t di = 0; di <= (i > 0); ++di) {
    for (uint32_t dj = 0; dj <= (j > 0); ++dj) {
      for (uint32_t dk = 0; dk <= (k > 0); ++dk) {
        if (di + dj + dk == 0) continue;
        const uint64_t q = part_index(i - di, j - dj, k - dk);
        const std::vector<float>& src = *values_[q];
        const int64_t qt0 = int64_t{i - di} * b.t, qx0 = int64_t{j - dj} * b.x, qy0 = int64_t{k - dk} * b.y;
        const int64_t qbt = std::min<int64_t>(b.t, pd.t - qt0), qbx = std::min<int64_t>(b.x, pd.x - qx0),
                      qby = std::min<int64_t>(b.y, pd.y - qy0);
        // Intersection of q's box with ext, per axis.
        const int64_t tl = std::max(qt0, et0), th = std::min(qt0 + qbt, et0 + int64_t{ext.t});
        const int64_t xl = std::max(qx0, ex0), xh = std::min(qx0 + qbx, ex0 + int64_t{ext.x});
        const int64_t yl = std::max(qy0, ey0), yh = std::min(qy0 + qby, ey0 + int64_t{ext.y});
        if (tl >= th || xl >= xh || yl >= yh) continue;
        for (int64_t t = tl; t < th; ++t) {
          for (int64_t x = xl; x < xh; ++x) {
            const float* from = src.data() + ((t - qt0) * qbx + (x - qx0)) * qby + (yl - qy0);
            float* to = buf.data() + ((t - et0) * int64_t{ext.x} + (x - ex0)) * int64_t{ext.y} + (yl - ey0);
            std::memcpy(to, from, static_cast<size_t>(yh - yl) * sizeof(float));
          }
        }
      }
    }
  }
  // The halo is copied: predecessors whose last successor this was are no longer needed.
  for (uint32_t di = 0; di <= (i > 0); ++di) {
    for (uint32_t dj = 0; dj <= (j > 0); ++dj) {
      for (uint32_t dk = 0; dk <= (k > 0); ++dk) {
        if (di + dj + dk == 0) continue;
        const uint64_t q = part_index(i - di, j - dj, k - dk);
        if (--succ_left_[q] == 0) values_[q].reset();
      }
    }
  }
  cluster::upstream(*this, std::make_unique<ArPart>(model_, p, t0, x0, y0, box, std::move(buf)));
}

void ArGenerator::fail_once(const Status& st) {
  if (failed_) return;
  failed_ = true;
  commit(st);
}

void ArGenerator::on_part(ArPart& part) {
  const uint64_t p = part.index();
  if (p >= parts_total_ || values_[p] != nullptr || part.values().empty()) {
    return fail_once(Status::internal("ar.generator: unexpected part " + std::to_string(p)));
  }
  ++parts_done_;
  auto values = std::make_shared<const std::vector<float>>(std::move(part.values()));
  const uint32_t i = static_cast<uint32_t>(p / (uint64_t{grid_.x} * grid_.y));
  const uint32_t j = static_cast<uint32_t>(p / grid_.y % grid_.x);
  const uint32_t k = static_cast<uint32_t>(p % grid_.y);
  const Dims pd = config_.padded(), b = config_.part;
  PartGeometry g;
  g.t0 = uint64_t{i} * b.t;
  g.x0 = uint64_t{j} * b.x;
  g.y0 = uint64_t{k} * b.y;
  g.box = {static_cast<uint32_t>(std::min<uint64_t>(b.t, pd.t - g.t0)), static_cast<uint32_t>(std::min<uint64_t>(b.x, pd.x - g.x0)),
           static_cast<uint32_t>(std::min<uint64_t>(b.y, pd.y - g.y0))};
  g.size = config_.size;
  g.padding = config_.padding;
  // The values come back from wherever the part ran: they must fill its box exactly.
  if (values->size() != uint64_t{g.box.t} * g.box.x * g.box.y) {
    return fail_once(Status::internal("ar.generator: part " + std::to_string(p) + " returned " +
                                      std::to_string(values->size()) + " values for its box"));
  }
  upstream(std::make_unique<ArWrite>(fd_, values, g));  // local disk pipeline: the file is here
  if (succ_left_[p] > 0) values_[p] = std::move(values);
  for (uint32_t di = 0; di <= (i + 1 < grid_.t); ++di) {
    for (uint32_t dj = 0; dj <= (j + 1 < grid_.x); ++dj) {
      for (uint32_t dk = 0; dk <= (k + 1 < grid_.y); ++dk) {
        if (di + dj + dk == 0) continue;
        const uint64_t s = part_index(i + di, j + dj, k + dk);
        if (--pending_[s] == 0) launch(s);
      }
    }
  }
  if (parts_total_ >= 100 ? parts_done_ % (parts_total_ / 100) == 0 : true) report_progress(parts_done_, parts_total_);
}

void ArGenerator::react(std::unique_ptr<kernel::Kernel> child) {
  if (!child->result().ok()) return fail_once(child->result());
  if (auto* part = dynamic_cast<ArPart*>(child.get())) {
    if (cancelled()) return fail_once(Status::cancelled("job cancelled"));
    return on_part(*part);
  }
  if (auto* w = dynamic_cast<ArWrite*>(child.get())) {
    bytes_written_ += w->bytes();
    if (++writes_done_ == parts_total_) {
      if (config_.fsync) return upstream(std::make_unique<ArSync>(fd_));
      commit();
    }
    return;
  }
  if (dynamic_cast<ArSync*>(child.get()) != nullptr) return commit();
  fail_once(Status::internal("ar.generator: unexpected subordinate " + child->type_name()));
}

}  // namespace chiron::jobs::ar
