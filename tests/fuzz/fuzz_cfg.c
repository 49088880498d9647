// SPDX-License-Identifier: MIT
/*
 * fuzz_cfg.c - libFuzzer harness for the argv parser (and the durations and
 * environment it accepts). The input is split at NUL bytes into arguments.
 * Possible only because cfg_parse() never prints, exits or touches globals.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *argv[64] = { "strait-proxy" };
	char *buf = malloc(size + 1), err[256];
	struct cfg cfg;
	int argc = 1;
	size_t i, start = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i <= size && argc < 63; i++) {
		if (i == size || buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	}
	if (!cfg_parse(argc, argv, &cfg, err, sizeof(err))) {
		struct cfg_environ env = { argc > 1 ? argv[1] : NULL,
					   argc > 2 ? argv[2] : NULL,
					   argc > 3 ? argv[3] : NULL,
					   argc > 4 ? argv[4] : NULL,
					   argc > 5 ? argv[5] : NULL,
					   argc > 6 ? argv[6] : NULL };
		char esc[64];

		if (!cfg_env(&cfg, &env, err, sizeof(err))) {
			cfg_pp_version(&cfg, cfg.host_port);
			cfg_transparent(&cfg, cfg.host_port);
		}
		log_escape(esc, sizeof(esc), err);
	}
	free(buf);
	return 0;
}
