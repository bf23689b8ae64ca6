#ifndef BOOT_JUMP_H
#define BOOT_JUMP_H

#include <stdbool.h>
#include <stdint.h>

__attribute__((noreturn)) void boot_jump(uint32_t vtor, bool release_cm4);
__attribute__((noreturn)) void boot_reset(void);

#endif
