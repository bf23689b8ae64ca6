# h7_unit_test(NAME name SOURCES a.c b.c LIBS lib... [LABELS extra...])
# A cmocka test run by ctest with label "unit" (also run under ASan+UBSan).
function(h7_unit_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} ${CMOCKA_LIBRARIES})
  target_include_directories(${T_NAME} PRIVATE ${CMOCKA_INCLUDE_DIRS})
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "unit;${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

# h7_firmware(target) after add_executable(target ...) in the target build:
# links with the given linker script, prints the size, makes .bin and .hex.
function(h7_firmware T LDSCRIPT)
  target_link_options(${T} PRIVATE -T${LDSCRIPT} -Wl,-Map=$<TARGET_FILE:${T}>.map)
  set_target_properties(${T} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${LDSCRIPT})
  add_custom_command(TARGET ${T} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${T}> $<TARGET_FILE_DIR:${T}>/${T}.bin
    COMMAND ${CMAKE_OBJCOPY} -O ihex $<TARGET_FILE:${T}> $<TARGET_FILE_DIR:${T}>/${T}.hex
    COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${T}>
    VERBATIM)
endfunction()
