# The bootloader firmware (included from boot/CMakeLists.txt, target build).
add_executable(h7boot
  target/startup.c
  target/main.c
  target/port.c
  target/clock.c
  target/usart.c
  target/iwdg.c
  target/cm4.c
  target/jump.c)
target_include_directories(h7boot PRIVATE target)
target_link_libraries(h7boot PRIVATE h7boot_core h7flash h7proto)
target_compile_options(h7boot PRIVATE -mgeneral-regs-only)
# Frame format while waiting for the host's first byte. A sync byte 0x7F
# reads the same in 8N1 and 8E1 on a real wire, so the host's format can
# only be told apart where the line model flags the mismatch (the virtual
# board does). OFF (default): 8N1, for stm32flash -m 8n1, terminals and the
# virtual board's pty. ON: 8E1 like ST's ROM (stm32flash default,
# STM32CubeProgrammer) on real hardware; menu keys switch back to 8N1.
# Development only: AN3155 Write Memory and Go into RAM run code the host
# sends, which could unlock the flash and rewrite the bootloader.
option(H7BOOT_HOST_RAM "Allow AN3155 Write Memory and Go into RAM (development)" OFF)
if(H7BOOT_HOST_RAM)
  target_compile_definitions(h7boot PRIVATE H7BOOT_HOST_RAM=1)
endif()
option(H7BOOT_IDLE_8E1 "Bootloader waits for the host in 8E1 (ROM-like AN3155 framing)" OFF)
if(H7BOOT_IDLE_8E1)
  target_compile_definitions(h7boot PRIVATE H7BOOT_IDLE_8E1)
endif()
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

# h7boot_ab: the bootloader of the A/B layout (docs/PROTOCOL.md "A/B
# updates"), from the same sources: its own entry (target/main_ab.c) and the
# A/B update engine behind the protocols (ab/update_ab.c, an object of the
# executable that defines every symbol of src/update.c, so update.o is never
# taken from libh7boot_core.a; the POST_BUILD check below fails the build if
# the map says otherwise).
add_executable(h7boot_ab
  target/startup.c
  target/main_ab.c
  target/port.c
  target/clock.c
  target/usart.c
  target/iwdg.c
  target/cm4.c
  target/jump.c
  ab/update_ab.c)
target_include_directories(h7boot_ab PRIVATE target)
target_link_libraries(h7boot_ab PRIVATE h7boot_ab_core h7boot_core h7flash h7proto)
target_compile_options(h7boot_ab PRIVATE -mgeneral-regs-only)
h7_firmware(h7boot_ab ${CMAKE_CURRENT_SOURCE_DIR}/target/boot.ld)
add_custom_command(TARGET h7boot_ab POST_BUILD
  COMMAND sh -c "! grep -q 'libh7boot_core.a(update.c.obj)' $<TARGET_FILE:h7boot_ab>.map || { echo 'h7boot_ab: update.c.obj linked from libh7boot_core.a (boot/ab/update_ab.c misses a symbol of boot/src/update.c)'; exit 1; }"
  COMMAND ${CMAKE_COMMAND}
          -DELF=$<TARGET_FILE:h7boot_ab>
          -DSIZE=${CMAKE_SIZE}
          -DSU_DIRS=${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/h7boot_ab.dir|${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/h7boot_core.dir|${CMAKE_CURRENT_BINARY_DIR}/ab/CMakeFiles/h7boot_ab_core.dir|${CMAKE_BINARY_DIR}/h7flash/CMakeFiles/h7flash.dir
          -DNAME=h7boot_ab
          -P ${CMAKE_CURRENT_SOURCE_DIR}/fw_report.cmake
  VERBATIM)
