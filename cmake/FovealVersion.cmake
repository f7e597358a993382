# foveal's version, read from cpp/include/foveal/version.hpp: the one place it is written.
#
#   include(cmake/FovealVersion.cmake)       before project(): sets FOVEAL_VERSION (X.Y.Z)
#   cmake -P cmake/FovealVersion.cmake       prints it (tests/test_version.py compares it with
#                                            the Python package's version)
set(_foveal_version_header "${CMAKE_CURRENT_LIST_DIR}/../cpp/include/foveal/version.hpp")
file(STRINGS "${_foveal_version_header}" _foveal_version_lines
  REGEX "^#define FOVEAL_VERSION_(MAJOR|MINOR|PATCH) +[0-9]+ *$")
set(_foveal_version_parts)
foreach(_part MAJOR MINOR PATCH)
  set(_foveal_version_number "")
  foreach(_line IN LISTS _foveal_version_lines)
    if(_line MATCHES "^#define FOVEAL_VERSION_${_part} +([0-9]+)")
      set(_foveal_version_number "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(_foveal_version_number STREQUAL "")
    message(FATAL_ERROR "no '#define FOVEAL_VERSION_${_part} <number>' line in ${_foveal_version_header}")
  endif()
  list(APPEND _foveal_version_parts "${_foveal_version_number}")
endforeach()
list(JOIN _foveal_version_parts "." FOVEAL_VERSION)

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "${FOVEAL_VERSION}")
endif()
