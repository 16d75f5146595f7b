# Per-target settings: warnings, ccache. Nothing here touches global flags
# except the compiler launcher.

if(WB_USE_CCACHE)
  find_program(WB_CCACHE ccache)
  if(WB_CCACHE)
    # Precompiled headers need these sloppiness settings to hit the cache.
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
        ${WB_CCACHE})
    set(CMAKE_C_COMPILER_LAUNCHER ${CMAKE_CXX_COMPILER_LAUNCHER})
    message(STATUS "ccache: ${WB_CCACHE}")
  endif()
endif()

# Sanitizers (the asan and fuzz presets): every project target is built and
# linked with them; libFuzzer's coverage hooks too when fuzzing.
set(WB_SANITIZE "" CACHE STRING "sanitizers for every project target, e.g. address,undefined")
option(WB_FUZZ_COVERAGE "Instrument every project target for libFuzzer (clang)" OFF)

function(wb_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
                         -Wnon-virtual-dtor -Wno-unused-parameter)
  if(WB_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(WB_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${WB_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=${WB_SANITIZE})
  endif()
  if(WB_FUZZ_COVERAGE)
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
endfunction()
