// SPDX-License-Identifier: GPL-2.0
/*
 * mq_conf_test.c built as an ordinary program against glibc's mq_* (-lrt,
 * no libmailbox-mq), run with LD_PRELOAD=libmailbox-mq.so.1
 * (mq_preload.h).
 */
#define MQ_PRELOAD 1
#define main mq_test_main
#include "mq_conf_test.c"
#undef main

#include "mq_preload.h"
