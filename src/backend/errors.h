/*
 * errors.h — turns src/core's rb_error values into PostgreSQL errcodes.
 */
#ifndef RB_ERRORS_H
#define RB_ERRORS_H

#include "rb_error.h"

/* The SQLSTATE (as made by MAKE_SQLSTATE) that fits an rb_error_code. */
extern int	rb_errcode(rb_error_code code);

#endif							/* RB_ERRORS_H */
