#ifndef BOOT_USART_H
#define BOOT_USART_H

#include "boot/serial.h"

extern const struct boot_serial usart_serial;

#endif
