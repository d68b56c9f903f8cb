/*
 * version.h — the extension's version, as recorded in every backup's metadata.
 * Keep it equal to default_version in ripple_backup.control.
 */
#ifndef RB_VERSION_H
#define RB_VERSION_H

#define RB_EXTENSION_VERSION "0.1.0"

#endif							/* RB_VERSION_H */
