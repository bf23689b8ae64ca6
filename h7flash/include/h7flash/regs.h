/*
 * Forwarding header: the FLASH register map is hw/include/stm32h7/flash.h
 * (docs/DESIGN.md, "Hardware description"). Kept only until its last
 * user, vboard/src/main.c, includes the stm32h7 header; defines nothing.
 */
#include "stm32h7/flash.h"
