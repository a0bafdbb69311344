# Helpers that give every Chiron target the same warnings and include paths.
# Warnings apply to our own targets only, never to third-party code.

set(CHIRON_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Werror=unused-result)

function(chiron_target_defaults target)
  target_compile_options(${target} PRIVATE ${CHIRON_WARNINGS})
  if(CHIRON_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# chiron_module(NAME SOURCES... DEPS ...): one directory = one library chiron_NAME.
function(chiron_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(chiron_${name} STATIC ${M_SOURCES})
  target_include_directories(chiron_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/generated)
  target_link_libraries(chiron_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  chiron_target_defaults(chiron_${name})
endfunction()

# chiron_test(NAME SOURCES... DEPS ...): a GoogleTest binary registered with CTest.
function(chiron_test name)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  chiron_target_defaults(${name})
  include(GoogleTest)
  # One label, the module (a list would be split apart on its way through gtest_discover_tests).
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${T_LABELS}")
endfunction()
