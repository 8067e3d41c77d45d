/* mini-osv libc: <ctype.h> (ASCII only) */
#ifndef _MINI_OSV_API_CTYPE_H
#define _MINI_OSV_API_CTYPE_H

#ifdef __cplusplus
extern "C" {
#endif

int isdigit(int c);
int isxdigit(int c);
int isalpha(int c);
int isalnum(int c);
int isspace(int c);
int isupper(int c);
int islower(int c);
int isprint(int c);
int tolower(int c);
int toupper(int c);

#ifdef __cplusplus
}
#endif

#endif
