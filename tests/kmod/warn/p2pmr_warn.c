// SPDX-License-Identifier: GPL-2.0
/*
 * Throw-away module for the test bed's own test: loading it plants one
 * kernel WARNING, which tests/vm/run must report as a failure.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init p2pmr_warn_init(void)
{
	WARN(1, "p2pmr_warn: planted warning for the runner's self-test\n");
	return 0;
}

static void __exit p2pmr_warn_exit(void)
{
}

module_init(p2pmr_warn_init);
module_exit(p2pmr_warn_exit);
MODULE_DESCRIPTION("p2pmr test bed: plants a kernel WARNING");
MODULE_LICENSE("GPL");
