// Placeholder so the CLI links while the emitter is written (replaced in phase 2).
#include "fluxc/emit.h"

namespace chiron::fluxc {

Status emit(const Compilation&, const std::filesystem::path&, const EmitOptions&) {
  return Status::unimplemented("fluxc -o: the emitter is not written yet");
}

}  // namespace chiron::fluxc
