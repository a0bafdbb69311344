#pragma once
// Pieces of the files API shared by FilesService (files_service.cc) and the PUT fluxion graph
// (put_flow.cc): who may touch a channel, path errors, and the JSON of a save.
// Internal to the store module. Pure functions over thread-safe services.

#include <string_view>

#include <boost/json/object.hpp>

#include "common/result.h"
#include "net/http_message.h"
#include "service/access.h"
#include "store/file_store.h"

namespace chiron::store {

struct Scope {
  service::Caller caller;
  service::ChannelRef channel;
  WriteContext writer() const { return {channel.id, channel.owner_id, channel.live_session_id, caller.user_id}; }
};

// Who is asking, for which channel; 404 for channels the caller may not read (private
// channels are indistinguishable from absent ones), 401/403 for writes they may not make.
// Blocks (database): call on the disk pipeline.
Result<Scope> authorize(service::Access& access, const net::Request& r, std::string_view name, bool write);

// validate_path() as an API error ("invalid_path").
Status path_error(std::string_view path);

// The live `file` event and the body answering a save.
boost::json::object file_event(const SaveResult& r);
boost::json::object save_json(const SaveResult& r);

}  // namespace chiron::store
