/*
 * base_backup_sql.h — who may take base backups (base_backup_sql.c): a superuser
 * or a role with the REPLICATION attribute, the calling role as SET ROLE left it.
 */
#ifndef RB_BASE_BACKUP_SQL_H
#define RB_BASE_BACKUP_SQL_H

/* Errors (42501) unless the calling role may take a base backup. */
extern void rb_require_base_backup_privilege(void);

#endif							/* RB_BASE_BACKUP_SQL_H */
