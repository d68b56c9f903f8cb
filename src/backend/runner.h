/*
 * runner.h — the runner background worker: one backup of one database.
 */
#ifndef RB_RUNNER_H
#define RB_RUNNER_H

#include "postgres.h"

/*
 * Entry point of a dynamic background worker started by the launcher:
 * main_arg is the slot number, bgw_extra holds the backup id (int64).
 */
extern PGDLLEXPORT void rb_runner_main(Datum main_arg);

#endif							/* RB_RUNNER_H */
