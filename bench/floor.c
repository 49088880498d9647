// SPDX-License-Identifier: MIT
/*
 * floor.c - the smallest process a C proxy could be: says ready on fd 3 as
 * docker-proxy does, then sleeps. make bench measures its memory beside
 * strait-proxy's, linked the same way (dynamic glibc, PIE, full RELRO):
 * what it shows is the floor that glibc and the kernel set for any such
 * process on the machine, not anything a proxy could save.
 */
#include <unistd.h>

int main(void)
{
	if (write(3, "0\n", 2) == 2)
		close(3);
	pause();
	return 0;
}
