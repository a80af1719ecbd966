// SPDX-License-Identifier: MIT
// Compiling a .dts board with dtc (Debian's device-tree-compiler), capturing its messages.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "swiommu_glue.h"

extern char **environ;

int swiommu_glue_compile_dts(const char *dts, const char *dtb, char *messages, size_t len)
{
	int pipefd[2];
	posix_spawn_file_actions_t actions;
	pid_t pid;
	int status, ret;
	char *const argv[] = { "dtc", "-q", "-I", "dts", "-O", "dtb", "-o", (char *)dtb, (char *)dts, NULL };

	if (len)
		messages[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, pipefd[1], STDERR_FILENO);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	ret = posix_spawnp(&pid, "dtc", &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		snprintf(messages, len, "cannot run dtc (%s): install device-tree-compiler", strerror(ret));
		return -ret;
	}
	size_t have = 0;
	for (;;) {
		char buf[512];
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len && have < len - 1) {
			size_t take = (size_t)n < len - 1 - have ? (size_t)n : len - 1 - have;

			memcpy(messages + have, buf, take);
			have += take;
			messages[have] = '\0';
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EINVAL;
	return 0;
}
