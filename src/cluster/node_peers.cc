// Node: links between daemons — TCP + PeerSession, heartbeats, the discovery driver and
// the exchange of node records (see node.h). Everything here runs on the control thread.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <unistd.h>

#include <array>

#include "cluster/node_impl.h"
#include "common/log.h"
#include "common/strings.h"

namespace chiron::cluster {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A peer that lets this much pile up unread is closed (its kernels are placed again).
constexpr size_t kMaxQueuedBytes = size_t{256} << 20;
constexpr size_t kMaxPendingPerAddress = 8;
constexpr uint32_t kMaxRecordThreads = 1 << 16;

struct Peer : std::enable_shared_from_this<Peer> {
  enum class State { kConnecting, kHandshake, kProbing, kAwaitAttach, kSuperior, kSubordinate, kClosed };

  Peer(Node::Impl& n, tcp::socket s, PeerSession::Role role)
      : node(n), socket(std::move(s)), session(role, n.options.key, n.hello),
        inbound(role == PeerSession::Role::kResponder) {
    started_us = last_rx_us = last_tx_us = steady_us();
  }

  Node::Impl& node;
  tcp::socket socket;
  PeerSession session;
  bool inbound;
  State state = State::kConnecting;
  uint64_t position = 0;  // outbound: the probed position; inbound: from HELLO
  bool detaching = false; // we left this superior on purpose
  bool writing = false;
  std::deque<std::string> queue;
  std::array<char, 64 * 1024> rbuf{};
  int64_t started_us = 0, last_rx_us = 0, last_tx_us = 0;
  std::string remote_ip;
  std::string refused;        // set when we refused the peer: closing after the ERROR
  int64_t close_by_us = 0;    // close at the latest then (0 = not closing)
  size_t queued_bytes = 0;

  void flush() {
    std::string out = session.take_output();
    if (!out.empty()) {
      queued_bytes += out.size();
      queue.push_back(std::move(out));
      last_tx_us = steady_us();
    }
    if (queued_bytes > kMaxQueuedBytes && refused.empty()) {
      // Closed from a fresh handler: callers may be iterating over the links right now.
      refused = "peer does not read (" + std::to_string(queued_bytes >> 20) + " MiB queued)";
      close_by_us = steady_us();
      asio::post(socket.get_executor(), [self = shared_from_this()] { self->node.peer_closed(*self, self->refused); });
      return;
    }
    write_next();
  }

  void write_next() {
    if (writing || queue.empty() || state == State::kClosed) return;
    writing = true;
    asio::async_write(socket, asio::buffer(queue.front()), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->writing = false;
      if (self->state == State::kClosed) return;
      if (ec) return self->node.peer_closed(*self, "write: " + ec.message());
      self->queued_bytes -= self->queue.front().size();
      self->queue.pop_front();
      self->write_next();
    });
  }

  void read_next() {
    socket.async_read_some(asio::buffer(rbuf), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (self->state == State::kClosed) return;
      if (ec) return self->node.peer_closed(*self, ec == asio::error::eof ? "closed by peer" : "read: " + ec.message());
      self->last_rx_us = steady_us();
      std::vector<Frame> frames;
      const bool was_auth = self->session.authenticated();
      Status st = self->session.feed(std::string_view(self->rbuf.data(), n), frames);
      if (!was_auth && self->session.authenticated()) self->node.peer_authenticated(self);
      for (Frame& f : frames) {
        if (self->state == State::kClosed) return;
        self->node.peer_frame(self, std::move(f));
      }
      if (!st.ok()) {
        self->node.counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
        log::warn("cluster", "refused a peer", {{"peer", self->remote_ip}, {"error", st.to_string()}});
        // The session queued an ERROR with the reason: send it (never blocking the control
        // thread), then close; the ticker closes it anyway after a second.
        self->refused = "refused: " + st.message();
        self->close_by_us = steady_us() + 1'000'000;
        auto reason = std::make_shared<std::string>(self->session.take_output());
        if (reason->empty() || self->writing) return self->node.peer_closed(*self, self->refused);
        self->writing = true;
        asio::async_write(self->socket, asio::buffer(*reason), [self, reason](boost::system::error_code, size_t) {
          self->writing = false;
          self->node.peer_closed(*self, self->refused);
        });
        return;
      }
      if (self->state == State::kClosed) return;
      self->flush();
      self->read_next();
    });
  }
};

uint64_t Node::Impl::peer_position(const Peer& peer) { return peer.position; }

Peer* Node::Impl::link_peer(uint64_t link) {
  auto it = links.find(link);
  return it == links.end() ? nullptr : it->second.get();
}

void Node::Impl::send_frame(Peer& peer, FrameType type, std::string payload) {
  if (peer.state == Peer::State::kClosed) return;
  peer.session.send(type, std::move(payload));
  peer.flush();
}

Status Node::Impl::start_listener() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(listen.ip.to_string(), ec);
  if (ec) return Status::invalid_argument("bad listen address " + listen.ip.to_string());
  acceptor = std::make_unique<tcp::acceptor>(*ctl);
  tcp::endpoint ep(address, listen.port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(128, ec);
  if (ec) return Status::unavailable("cannot listen on " + listen.to_string() + ": " + ec.message());
  accept_next();
  return {};
}

void Node::Impl::accept_next() {
  acceptor->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor->is_open()) return;
    if (!ec) {
      boost::system::error_code ec2;
      socket.set_option(tcp::no_delay(true), ec2);
      auto peer = std::make_shared<Peer>(*this, std::move(socket), PeerSession::Role::kResponder);
      auto remote = peer->socket.remote_endpoint(ec2);
      peer->remote_ip = ec2 ? "?" : remote.address().to_string();
      peer->state = Peer::State::kHandshake;
      size_t same_address = 0;
      for (const auto& other : pending) same_address += other->remote_ip == peer->remote_ip ? 1 : 0;
      auto ip = IpAddress::parse(peer->remote_ip);
      if (!ip.ok() || !subnet.contains(*ip)) {
        counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
        log::warn("cluster", "refused a connection from outside the cluster subnet", {{"peer", peer->remote_ip}});
        peer->socket.close(ec2);
      } else if (pending.size() >= 256 || same_address >= kMaxPendingPerAddress) {
        log::warn("cluster", "too many unauthenticated connections; refusing", {{"peer", peer->remote_ip}});
        peer->socket.close(ec2);
      } else {
        pending.insert(peer);
        peer->flush();
        peer->read_next();
      }
    }
    accept_next();
  });
}

void Node::Impl::probe(uint64_t target) {
  if (stopping || target == 0 || target == self_position) {
    discoverer->on_probe_result(target, false, steady_us());
    return;
  }
  if (Peer* existing = link_peer(target); existing != nullptr && existing->state == Peer::State::kSubordinate) {
    // It is our subordinate: it cannot be our superior (no cycles).
    discoverer->on_probe_result(target, false, steady_us());
    return;
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(address_of(subnet, target).to_string(), ec);
  auto local = asio::ip::make_address(listen.ip.to_string(), ec);
  tcp::socket socket(*ctl);
  socket.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
  // Bind to our own address so the peer sees the address that gives our position.
  if (!ec) socket.bind(tcp::endpoint(local, 0), ec);
  if (ec) {
    log::warn("cluster", "cannot open a probe socket", {{"error", ec.message()}});
    discoverer->on_probe_result(target, false, steady_us());
    return;
  }
  auto peer = std::make_shared<Peer>(*this, std::move(socket), PeerSession::Role::kInitiator);
  peer->position = target;
  peer->remote_ip = address.to_string();
  pending.insert(peer);
  peer->socket.async_connect(tcp::endpoint(address, listen.port), [this, peer](boost::system::error_code cec) {
    if (peer->state == Peer::State::kClosed) return;
    if (cec) return peer_closed(*peer, "connect: " + cec.message());
    boost::system::error_code ec2;
    peer->socket.set_option(tcp::no_delay(true), ec2);
    peer->state = Peer::State::kHandshake;
    peer->flush();
    peer->read_next();
  });
}

void Node::Impl::peer_authenticated(const std::shared_ptr<Peer>& p) {
  const HelloInfo& h = p->session.peer();
  if (p->inbound) {
    // The claimed position must be the one of the address the peer connects from.
    auto ip = IpAddress::parse(p->remote_ip);
    auto pos = ip.ok() ? position_of(subnet, *ip) : Result<uint64_t>(Status::invalid_argument("bad address"));
    if (!pos.ok() || *pos != h.position) {
      counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
      log::warn("cluster", "refused a peer: its position does not match its address",
                {{"peer", p->remote_ip}, {"claimed", std::to_string(h.position)}});
      return peer_closed(*p, "position does not match the address");
    }
    p->position = h.position;
    p->state = Peer::State::kAwaitAttach;
    return;
  }
  if (h.position != p->position) {
    counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
    log::warn("cluster", "refused a peer: it is not the node probed",
              {{"peer", p->remote_ip}, {"claimed", std::to_string(h.position)}});
    return peer_closed(*p, "unexpected position");
  }
  p->state = Peer::State::kProbing;
  AttachMsg m;
  m.position = self_position;
  m.old_superior = discoverer->superior().value_or(0);
  send_frame(*p, FrameType::kAttach, encode(m));
}

void Node::Impl::peer_frame(const std::shared_ptr<Peer>& p, Frame frame) {
  const bool linked = p->state == Peer::State::kSuperior || p->state == Peer::State::kSubordinate;
  switch (frame.type) {
    case FrameType::kAttach: {
      auto m = decode_attach(frame.payload);
      if (p->state != Peer::State::kAwaitAttach || !m.ok() || m->position != p->position) {
        counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
        return peer_closed(*p, "bad ATTACH");
      }
      // Candidates are always lower positions, so only higher positions may attach here.
      if (p->position <= self_position || stopping || discoverer->superior() == p->position) {
        send_frame(*p, FrameType::kAttachRefused, encode_error("not a valid superior for this node"));
        return peer_closed(*p, "attach refused");
      }
      if (auto old = links.find(p->position); old != links.end()) peer_closed(*old->second, "replaced by a new connection");
      pending.erase(p);
      links[p->position] = p;
      p->state = Peer::State::kSubordinate;
      send_frame(*p, FrameType::kAttachOk, "");
      discoverer->on_subordinate(p->position, true);
      log::info("cluster", "subordinate attached", {{"peer", std::to_string(p->position)}});
      link_up(p);
      return;
    }
    case FrameType::kAttachOk: {
      if (p->state != Peer::State::kProbing) return peer_closed(*p, "unexpected ATTACH_OK");
      if (auto old = links.find(p->position); old != links.end()) peer_closed(*old->second, "replaced by a new connection");
      pending.erase(p);
      links[p->position] = p;
      p->state = Peer::State::kSuperior;
      counters.superior_changes.fetch_add(1, std::memory_order_relaxed);
      log::info("cluster", "superior set", {{"superior", std::to_string(p->position)},
                                            {"ideal", std::to_string(discoverer->ideal())}});
      discoverer->on_probe_result(p->position, true, steady_us());
      link_up(p);
      drive_discovery();
      return;
    }
    case FrameType::kAttachRefused:
      return peer_closed(*p, "refused our ATTACH");
    case FrameType::kDetach:
      if (p->state == Peer::State::kSubordinate) return peer_closed(*p, "subordinate left");
      return;
    case FrameType::kHeartbeat:
      return;
    case FrameType::kError: {
      auto reason = decode_error(frame.payload);
      return peer_closed(*p, "peer error: " + (reason.ok() ? *reason : std::string("?")));
    }
    default:
      break;
  }
  if (!linked) {
    counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
    log::warn("cluster", "refused a frame from a peer that is not a link",
              {{"peer", p->remote_ip}, {"type", std::string(frame_type_name(static_cast<uint8_t>(frame.type)))}});
    return peer_closed(*p, "frame before ATTACH");
  }
  switch (frame.type) {
    case FrameType::kRecords: {
      auto records = decode_records(frame.payload);
      if (!records.ok()) {
        counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
        return peer_closed(*p, "bad RECORDS: " + records.status().message());
      }
      std::vector<NodeRecord> changed;
      const uint64_t max_pos = max_position(subnet);
      for (const NodeRecord& r : *records) {
        // Only nodes that can exist in this subnet, with sane sizes; never ourselves.
        if (r.position == 0 || r.position > max_pos || r.threads > kMaxRecordThreads || r.position == self_position) {
          counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
          log::warn("cluster", "ignored an implausible node record", {{"peer", std::to_string(p->position)},
                                                                     {"position", std::to_string(r.position)}});
          continue;
        }
        if (table->apply(p->position, r)) changed.push_back(r);
      }
      if (!changed.empty()) {
        broadcast(FrameType::kRecords, encode_records(changed), p->position);
        update_link_weights();
      }
      return;
    }
    case FrameType::kRecordsGone: {
      auto positions = decode_positions(frame.payload);
      if (!positions.ok()) return peer_closed(*p, "bad RECORDS_GONE");
      std::vector<uint64_t> gone;
      for (uint64_t pos : *positions) {
        if (table->remove(p->position, pos)) gone.push_back(pos);
      }
      if (!gone.empty()) {
        broadcast(FrameType::kRecordsGone, encode_positions(gone), p->position);
        update_link_weights();
      }
      return;
    }
    case FrameType::kKernel:
      return on_kernel(*p, frame.payload);
    case FrameType::kKernelReturn:
      return on_kernel_return(*p, frame.payload);
    case FrameType::kCancelJob: {
      auto m = decode_cancel_job(frame.payload);
      if (m.ok()) cancel_job_local(m->job, true);
      return;
    }
    default:
      counters.frames_refused.fetch_add(1, std::memory_order_relaxed);
      return peer_closed(*p, "unexpected frame");
  }
}

void Node::Impl::peer_closed(Peer& p, const std::string& why) {
  if (p.state == Peer::State::kClosed) return;
  const Peer::State was = p.state;
  p.state = Peer::State::kClosed;
  boost::system::error_code ec;
  p.socket.shutdown(tcp::socket::shutdown_both, ec);
  p.socket.close(ec);
  std::shared_ptr<Peer> self = p.shared_from_this();
  pending.erase(self);
  if (!p.inbound && (was == Peer::State::kConnecting || was == Peer::State::kHandshake || was == Peer::State::kProbing)) {
    log::info("cluster", "probe failed", {{"peer", std::to_string(p.position)}, {"why", why}});
    discoverer->on_probe_result(p.position, false, steady_us());
    drive_discovery();
    return;
  }
  auto it = links.find(p.position);
  if (it != links.end() && it->second.get() == &p) {
    links.erase(it);
    log::warn("cluster", was == Peer::State::kSuperior ? "superior lost" : "subordinate lost",
              {{"peer", std::to_string(p.position)}, {"why", why}});
    link_lost(p.position, was == Peer::State::kSuperior && !p.detaching);
  }
}

void Node::Impl::link_up(const std::shared_ptr<Peer>& p) {
  scheduler->set_link(p->position, table->weight(p->position));
  refresh_self(true);  // our superior (or subordinates) changed: tell everyone
  send_frame(*p, FrameType::kRecords, encode_records(table->records_for(p->position)));
}

void Node::Impl::link_lost(uint64_t link, bool was_superior) {
  std::vector<uint64_t> gone = table->drop_link(link);
  if (!gone.empty()) broadcast(FrameType::kRecordsGone, encode_positions(gone), link);
  scheduler->remove_link(link);
  recover_link(link);
  if (stopping) return;
  if (was_superior) {
    discoverer->on_superior_lost(steady_us());
  } else {
    discoverer->on_subordinate(link, false);
  }
  drive_discovery();
  update_link_weights();
  refresh_self(true);
}

void Node::Impl::drive_discovery() {
  for (const Discoverer::Action& a : discoverer->take_actions()) {
    if (a.kind == Discoverer::Action::Kind::kProbe) {
      probe(a.peer);
    } else if (Peer* old = link_peer(a.peer); old != nullptr && old->state == Peer::State::kSuperior) {
      old->detaching = true;
      send_frame(*old, FrameType::kDetach, "");
      log::info("cluster", "left the superior for a better one", {{"old", std::to_string(a.peer)}});
      // Give the DETACH a moment to leave, then close.
      auto timer = std::make_shared<asio::steady_timer>(*ctl, std::chrono::milliseconds(100));
      std::shared_ptr<Peer> keep = old->shared_from_this();
      timer->async_wait([this, timer, keep](boost::system::error_code) { peer_closed(*keep, "detached"); });
    }
  }
}

void Node::Impl::broadcast(FrameType type, const std::string& payload, uint64_t except) {
  for (auto& [pos, peer] : links) {
    if (pos != except) send_frame(*peer, type, payload);
  }
}

NodeRecord Node::Impl::make_self_record() const {
  NodeRecord r;
  r.position = self_position;
  r.uid = uid;
  r.endpoint = hello.endpoint;
  r.http = http ? HostPort{http->options().address, http->port()}.to_string() : "";
  r.hostname = hostname;
  r.superior = discoverer ? discoverer->superior().value_or(0) : 0;
  r.threads = runtime ? runtime->threads(kernel::Device::kCpu) : 0;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  r.memory_bytes = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
  const double running = static_cast<double>(local_running.load(std::memory_order_relaxed));
  r.load = r.threads == 0 ? 0 : std::round(running / r.threads * 100) / 100;
  uint32_t running_jobs = 0;
  for (const auto& [id, j] : jobs) running_jobs += j.state == "running" && j.home == self_position ? 1 : 0;
  r.jobs = running_jobs;
  return r;
}

void Node::Impl::refresh_self(bool force) {
  const int64_t now = steady_us();
  if (!force && now - last_self_refresh_us < 1'000'000) return;
  last_self_refresh_us = now;
  if (table->update_self(make_self_record())) broadcast(FrameType::kRecords, encode_records({table->self()}), 0);
}

void Node::Impl::update_link_weights() {
  for (auto& [pos, peer] : links) scheduler->set_link(pos, table->weight(pos));
}

void Node::Impl::on_tick() {
  if (stopping) return;
  const int64_t now = steady_us();
  const int64_t heartbeat_us = options.heartbeat_ms * 1000, dead_us = options.dead_after_ms * 1000;
  std::vector<std::shared_ptr<Peer>> dead;
  for (auto& [pos, peer] : links) {
    if (now - peer->last_rx_us > dead_us) {
      dead.push_back(peer);
    } else if (now - peer->last_tx_us >= heartbeat_us) {
      send_frame(*peer, FrameType::kHeartbeat, "");
    }
  }
  for (auto& peer : dead) peer_closed(*peer, "missed heartbeats");
  std::vector<std::shared_ptr<Peer>> closing;
  for (auto& [pos, peer] : links) {
    if (peer->close_by_us != 0 && now > peer->close_by_us) closing.push_back(peer);
  }
  for (const auto& peer : pending) {
    if (peer->close_by_us != 0 && now > peer->close_by_us) closing.push_back(peer);
  }
  for (auto& peer : closing) peer_closed(*peer, peer->refused);
  const int64_t probe_us = options.probe_timeout_ms * 1000;
  std::vector<std::shared_ptr<Peer>> slow;
  for (const auto& peer : pending) {
    const int64_t limit = peer->inbound ? std::max<int64_t>(probe_us, 2'000'000) : probe_us;
    if (now - peer->started_us > limit) slow.push_back(peer);
  }
  for (auto& peer : slow) peer_closed(*peer, peer->inbound ? "handshake timeout" : "probe timeout");
  discoverer->on_tick(now);
  drive_discovery();
  refresh_self(false);
  ticker->expires_after(std::chrono::milliseconds(std::max<int64_t>(options.heartbeat_ms / 2, 10)));
  ticker->async_wait([this](boost::system::error_code ec) {
    if (!ec) on_tick();
  });
}

}  // namespace chiron::cluster
