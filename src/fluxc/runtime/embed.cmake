# cmake -DIN=flx-runtime.js -DOUT=flx_runtime_js.h -P embed.cmake: the runtime as a raw string
# literal (kFlxRuntimeJs) for the emitter.
file(READ ${IN} content)
string(FIND "${content}" ")flxrt\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )flxrt\"")
endif()
file(WRITE ${OUT}.tmp "#pragma once\n// Generated from src/fluxc/runtime/flx-runtime.js by embed.cmake.\ninline constexpr char kFlxRuntimeJs[] = R\"flxrt(${content})flxrt\";\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
