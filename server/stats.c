/*
 * stats.c: the daemon's counters (see stats.h).
 */
#include <config.h>

#include "server/stats.h"

struct stats stats;

const char *const loop_work_names[LOOP_NWORK] = {
    "feed", "kafka", "aggregator", "store", "http", "housekeeping"};
