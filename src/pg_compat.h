/*
 * pg_compat.h
 *	  Differences between the PostgreSQL majors sst2 supports (15, 17, 18),
 *	  in one place: the glue uses the names below and never tests
 *	  PG_VERSION_NUM itself.  Included by sst2_pg.h, after postgres.h.
 *
 *	  15 is the oldest major supported: shmem_request_hook (stats.c),
 *	  MarkGUCPrefixReserved and InitMaterializedSRF all exist from 15 on, so
 *	  they need no guard here.
 */
#ifndef SST2_PG_COMPAT_H
#define SST2_PG_COMPAT_H

#include "fmgr.h"

#if PG_VERSION_NUM < 150000
#error "sst2 needs PostgreSQL 15 or later"
#endif

/*
 * A function that does not return.  PostgreSQL 18 replaced the suffix
 * pg_attribute_noreturn() with the prefix pg_noreturn (C11 _Noreturn); both
 * may stand before the declaration, so SST2_NORETURN goes there:
 *	 extern SST2_NORETURN void f(void);
 */
#if PG_VERSION_NUM >= 180000
#define SST2_NORETURN pg_noreturn
#else
#define SST2_NORETURN pg_attribute_noreturn()
#endif

/*
 * The module's magic block.  From 18 on it also carries the module's name
 * and version, which pg_get_loaded_modules() shows.  SST2_VERSION is
 * default_version of sst2.control, passed in by the Makefile.
 */
#ifndef SST2_VERSION
#error "SST2_VERSION is not defined (the Makefile passes it from sst2.control)"
#endif
#if PG_VERSION_NUM >= 180000
#define SST2_MODULE_MAGIC PG_MODULE_MAGIC_EXT(.name = "sst2", .version = SST2_VERSION)
#else
#define SST2_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/*
 * Whether a role owns a relation.  PostgreSQL 16 replaced the per-catalog
 * pg_class_ownercheck() with object_ownercheck() on any catalog.  Callers
 * include utils/acl.h and catalog/pg_class.h.
 */
#if PG_VERSION_NUM >= 160000
#define sst2_class_ownercheck(relid, roleid) \
	object_ownercheck(RelationRelationId, (relid), (roleid))
#else
#define sst2_class_ownercheck(relid, roleid) pg_class_ownercheck((relid), (roleid))
#endif

#endif							/* SST2_PG_COMPAT_H */
