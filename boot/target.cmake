# The bootloader firmware (included from boot/CMakeLists.txt, target build).
add_executable(h7boot
  target/startup.c
  target/main.c
  target/clock.c
  target/usart.c
  target/iwdg.c
  target/cm4.c
  target/jump.c)
target_include_directories(h7boot PRIVATE target)
target_link_libraries(h7boot PRIVATE h7boot_core h7flash h7proto)
target_compile_options(h7boot PRIVATE -mgeneral-regs-only)
h7_firmware(h7boot ${CMAKE_CURRENT_SOURCE_DIR}/target/boot.ld)
# Size and stack: sections, and the largest stack frames (-fstack-usage).
add_custom_command(TARGET h7boot POST_BUILD
  COMMAND ${CMAKE_COMMAND}
          -DELF=$<TARGET_FILE:h7boot>
          -DSIZE=${CMAKE_SIZE}
          -DSU_DIRS=${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/h7boot.dir|${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/h7boot_core.dir|${CMAKE_BINARY_DIR}/h7flash/CMakeFiles/h7flash.dir
          -DNAME=h7boot
          -P ${CMAKE_CURRENT_SOURCE_DIR}/fw_report.cmake
  VERBATIM)
