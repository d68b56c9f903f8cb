/*
 * errors.c — maps src/core's rb_error codes to PostgreSQL errcodes, so a failure
 * reported by the pipeline is logged with a fitting SQLSTATE and never XX000 for
 * a configuration mistake.
 */
#include "postgres.h"

#include "utils/elog.h"

#include "errors.h"

int
rb_errcode(rb_error_code code)
{
	switch (code)
	{
		case RB_OK:
			return ERRCODE_SUCCESSFUL_COMPLETION;
		case RB_ERR_INVALID:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case RB_ERR_NOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case RB_ERR_IO:
			return ERRCODE_IO_ERROR;
		case RB_ERR_NETWORK:
			return ERRCODE_CONNECTION_FAILURE;
		case RB_ERR_REMOTE:
			return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
		case RB_ERR_AUTH:
			return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
		case RB_ERR_NOT_FOUND:
			return ERRCODE_UNDEFINED_FILE;
		case RB_ERR_INTEGRITY:
			return ERRCODE_DATA_CORRUPTED;
		case RB_ERR_CANCELLED:
			return ERRCODE_QUERY_CANCELED;
		case RB_ERR_CIRCUIT_OPEN:
			return ERRCODE_CANNOT_CONNECT_NOW;
		case RB_ERR_CHILD:
			return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
		case RB_ERR_EXISTS:
			return ERRCODE_DUPLICATE_FILE;
		case RB_ERR_INTERNAL:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}
