# tests/cuda_emu/translate.cmake — turns one .cu file of backends/cuda/ into C++ for the emulator: each
# `kernel<<<config>>>(args)` becomes `::bplab_emu::Launch(config).bind(...)(args)`; nothing else changes.
# Usage: cmake -DIN=<file.cu> -DOUT=<file.cpp> -P translate.cmake
file(READ "${IN}" source)
string(REGEX REPLACE
  "([A-Za-z_][A-Za-z0-9_]*(<[^<>;]*>)?)<<<([^;]*)>>>\\("
  "::bplab_emu::Launch(\\3).bind([&](auto... bplab_emu_args) { \\1(bplab_emu_args...); })("
  translated "${source}")
string(FIND "${translated}" "<<<" left)
if(NOT left EQUAL -1)
  message(FATAL_ERROR "translate.cmake: ${IN}: a launch the pattern does not cover is left at offset ${left}")
endif()
# nvcc includes cuda_runtime.h in every .cu file before the file itself; so does the emulator.
file(WRITE "${OUT}.tmp" "#include <cuda_runtime.h>\n#line 1 \"${IN}\"\n${translated}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
