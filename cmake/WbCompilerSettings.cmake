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

function(wb_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                         -Wnon-virtual-dtor -Wno-unused-parameter)
  if(WB_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
