// SPDX-License-Identifier: MIT
/*
 * fuzz_addr.c - libFuzzer harness for everything that parses an address,
 * port, network, publish spec or interface name; checks that what the
 * strict parsers accept formats back to exactly the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[256], back[128];
	struct valid_publish pub;
	struct valid_cidr cidr;
	struct addr_ip ip;
	uint16_t port;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!addr_parse_ip(s, true, &ip) &&
	    (addr_format_ip(&ip, back, sizeof(back)) || strcmp(back, s)))
		abort(); /* strict means canonical: it must round-trip */
	addr_parse_ip(s, false, &ip);
	addr_parse_port(s, &port);
	if (!valid_cidr(s, &cidr, err, sizeof(err)) &&
	    (valid_format_cidr(&cidr, back, sizeof(back)) || strcmp(back, s)))
		abort();
	valid_publish(s, &pub, err, sizeof(err));
	valid_ifname(s, err, sizeof(err));
	free(s);
	return 0;
}
