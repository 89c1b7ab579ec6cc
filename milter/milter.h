/*
 * milter.h - danepold's milter front door (milter.c): the libmilter
 * callbacks. They reach libmilter only through milter_smfi.h, so unit
 * tests can drive them without libmilter.
 */
#ifndef DANEPOL_MILTER_MILTER_H
#define DANEPOL_MILTER_MILTER_H

struct smfiDesc;

/** The filter description registered with smfi_register() (static
 *  storage, the callbacks' table). */
struct smfiDesc *milter_desc(void);

#endif
