/*
 * secrets.c: keys do not stay in a process's environment.  The FAL key,
 * the API keys, the admin key and the webhook secret may come from the environment
 * (config_load reads it); once loaded they live in struct config only.  A process that calls
 * config_scrub_env() overwrites their values in place, so neither
 * /proc/<pid>/environ nor any child it starts shows them, then removes
 * the variables.
 */
#include <stdlib.h>
#include <string.h>

#include "spool.h"

extern char **environ;

void
config_scrub_env(void)
{
	static const char *const secret[] = {
	    "FAL_KEY", "API_KEYS", "ADMIN_API_KEY", "WEBHOOK_SECRET"};
	size_t i;
	char **e;

	for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
		size_t l = strlen(secret[i]);

		for (e = environ; e != NULL && *e != NULL; e++)
			if (strncmp(*e, secret[i], l) == 0 && (*e)[l] == '=')
				memset(*e + l + 1, 0, strlen(*e + l + 1));
		unsetenv(secret[i]);
	}
}
