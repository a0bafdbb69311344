#pragma once
// Placeholder: the micro-kernel runtime is being written (see issue 2, section 2).
namespace chiron::kernel {}
