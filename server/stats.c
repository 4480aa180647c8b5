/*
 * stats.c: the daemon's counters (see stats.h).
 */
#include <config.h>

#include "server/stats.h"

struct stats stats;
