/* `tapir version`: prints the program version. */
#include <stdio.h>

#include "cli/commands.h"

int cmd_version(int argc, char **argv, tp_err *err)
{
	(void)argc;
	(void)argv;
	(void)err;
	printf("tapir 0.1.0\n");
	return 0;
}
