// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening VFIO devices, two ways.  Through the group/type1 container
 * interface (/dev/vfio/N, /dev/vfio/vfio; the Debian kernels have IOMMUFD
 * disabled, so this is what the test bed runs): a group can be opened only
 * once, so the open groups and their containers are kept in a list and
 * shared by every device opened in them, with reference counts.  Through
 * the device's VFIO cdev (/dev/vfio/devices/vfioN) bound to an iommufd
 * (/dev/iommu) and attached to an IO address space, which plays the
 * container's part: devices share it by reference count.  Groups come
 * first where a device has both; the cdev serves devices that have no
 * group node, and callers that ask for it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <pthread.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "internal.h"

int p2pmr_parse_bdf(const char *in, char *out, size_t outlen)
{
	unsigned int dom = 0, bus, dev, fn;
	int n = 0;
	size_t i;

	p2pmr_clear_error();
	if (!in)
		return p2pmr_fail(-EINVAL, "no PCI address given");
	/*
	 * Only hex digits, each field starting with one: sscanf() alone would
	 * accept blanks, signs and "0x" (and "-1:..." as domain ffffffff).
	 */
	for (i = 0; in[i]; i++) {
		if (isxdigit((unsigned char)in[i]))
			continue;
		if ((in[i] != ':' && in[i] != '.') || !i ||
		    !isxdigit((unsigned char)in[i + 1]))
			goto bad;
	}
	if (!i)
		goto bad;
	if (sscanf(in, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) != 4 ||
	    in[n]) {
		n = 0;
		dom = 0;
		if (sscanf(in, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) != 3 ||
		    in[n])
			goto bad;
	}
	if (dev > 0x1f || fn > 7)
		goto bad;
	if (outlen < 13)
		return p2pmr_fail(-ENOSPC, "buffer too small for a PCI address");
	snprintf(out, outlen, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
bad:
	return p2pmr_fail(-EINVAL,
			  "'%s' is not a PCI address (expected DDDD:BB:DD.F)",
			  in);
}

/*
 * The open groups and the devices opened through their cdev; both lists
 * and every refs count are under open_lock.
 */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct p2pmr_group *groups;
static struct p2pmr_dev *cdevs;

/*
 * struct vfio_device_bind_iommufd as Linux 7.3 has it: the 6.12
 * <linux/vfio.h> of the build root ends at @out_devid and has no
 * VFIO_DEVICE_BIND_FLAG_TOKEN.  @argsz tells the kernel which one it got.
 */
struct bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
	__aligned_u64 token_uuid_ptr;
};

#define BIND_FLAG_TOKEN		(1 << 0)
#define BIND_SIZE_NO_TOKEN	(offsetof(struct bind_iommufd, out_devid) + \
				 sizeof(uint32_t))
_Static_assert(offsetof(struct bind_iommufd, out_devid) ==
	       offsetof(struct vfio_device_bind_iommufd, out_devid),
	       "struct bind_iommufd is VFIO's");

static void container_put(struct p2pmr_container *c)
{
	if (--c->refs)
		return;
	close(c->fd);
	pthread_mutex_destroy(&c->lock);
	free(c->ranges);
	free(c->maps);
	free(c);
}

static int container_new(const char *bdf, struct p2pmr_container **cp)
{
	struct p2pmr_container *c;
	char path[PATH_MAX];
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return p2pmr_fail(-ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/vfio/vfio", p2pmr_dev_root());
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		ret = p2pmr_fail(-errno,
				 "cannot open %s for %s: %s (modprobe vfio-pci; are you root?)",
				 path, bdf, strerror(errno));
		free(c);
		return ret;
	}
	if (ioctl(c->fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(c->fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		close(c->fd);
		free(c);
		return p2pmr_fail(-ENOTSUP,
				  "%s: VFIO type1v2 IOMMU not supported by this kernel",
				  path);
	}
	pthread_mutex_init(&c->lock, NULL);
	*cp = c;
	return 0;
}

/* A new iommufd with an IOAS, for the devices opened through their cdev. */
static int ioas_new(const struct p2pmr_dev *dev, const char *cdev,
		    struct p2pmr_container **cp)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct p2pmr_container *c;
	char path[PATH_MAX];
	int ret;

	c = calloc(1, sizeof(*c));
	if (!c)
		return p2pmr_fail(-ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/iommu", p2pmr_dev_root());
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		if (errno == ENOENT)
			ret = p2pmr_fail(-EOPNOTSUPP,
					 "%s missing: modprobe iommufd (the kernel needs CONFIG_IOMMUFD; a container needs the node passed in) to open %s through its VFIO cdev %s",
					 path, dev->bdf, cdev);
		else
			ret = p2pmr_fail(-errno,
					 "cannot open %s for %s: %s (are you root?)",
					 path, dev->bdf, strerror(errno));
		free(c);
		return ret;
	}
	if (ioctl(c->fd, IOMMU_IOAS_ALLOC, &alloc)) {
		ret = p2pmr_fail(-errno, "IOMMU_IOAS_ALLOC on %s for %s: %s",
				 path, dev->bdf, strerror(errno));
		close(c->fd);
		free(c);
		return ret;
	}
	c->iommufd = 1;
	c->ioas_id = alloc.out_ioas_id;
	pthread_mutex_init(&c->lock, NULL);
	*cp = c;
	return 0;
}

static void group_put(struct p2pmr_group *g)
{
	struct p2pmr_group **pp;

	if (--g->refs)
		return;
	for (pp = &groups; *pp != g; pp = &(*pp)->next)
		;
	*pp = g->next;
	/* Closing the group detaches it from its container. */
	close(g->fd);
	container_put(g->container);
	free(g);
}

/*
 * The name of @bdf's VFIO cdev ("vfio3") into @name: the device is VFIO's
 * through iommufd's cdev interface.  Return: 1 if there is one, else 0.
 */
static int cdev_name(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev",
		 p2pmr_sysfs_root(), bdf);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4) &&
		    strlen(de->d_name) < len) {
			memcpy(name, de->d_name, strlen(de->d_name) + 1);
			found = 1;
		}
	closedir(d);
	return found;
}

/*
 * The open group @num, or open it and attach it to @want (NULL: a new
 * container).  Takes a reference.  Called under open_lock.
 */
static int group_get(struct p2pmr_dev *dev, int num,
		     struct p2pmr_container *want, struct p2pmr_group **gp)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct p2pmr_container *c = want;
	struct p2pmr_group *g;
	char path[PATH_MAX], cdev[64];
	int ret;

	for (g = groups; g; g = g->next)
		if (g->num == num)
			break;
	if (g) {
		if (want && g->container != want)
			return p2pmr_fail(-EBUSY,
					  "IOMMU group %d of %s is already open in another container of this process",
					  num, dev->bdf);
		g->refs++;
		*gp = g;
		return 0;
	}

	g = calloc(1, sizeof(*g));
	if (!g)
		return p2pmr_fail(-ENOMEM, "out of memory");
	g->num = num;
	snprintf(path, sizeof(path), "%s/vfio/%d", p2pmr_dev_root(), num);
	g->fd = open(path, O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		ret = -errno;
		/* Only when joining a container: else the cdev is used. */
		if (ret == -ENOENT && cdev_name(dev->bdf, cdev, sizeof(cdev))) {
			ret = p2pmr_fail(-EOPNOTSUPP,
					 "%s is VFIO's through the iommufd cdev only (%s/vfio/devices/%s, no %s): it cannot join a VFIO container; open it and the container's devices through their cdev (P2PMR_DEV_ATTR_IOMMUFD)",
					 dev->bdf, p2pmr_dev_root(), cdev, path);
			goto err_free;
		}
		if (ret == -ENOENT && p2pmr_is_vfio_bound(NULL, dev->bdf))
			/* VFIO's, but its node is not here (a container?) */
			p2pmr_fail(-ENODEV,
				   "%s is bound to %s, a VFIO driver, but there is no %s: is VFIO's /dev/vfio visible here (a container needs the group's node passed in)?",
				   dev->bdf, dev->driver, path);
		else if (ret == -ENOENT)
			p2pmr_fail(-ENODEV,
				   "%s is bound to %s, not to a VFIO driver (there is no %s): modprobe vfio-pci-p2p and bind the device to it, or to vfio-pci or a VFIO variant driver; see p2pmr(1)",
				   dev->bdf, *dev->driver ? dev->driver : "(none)",
				   path);
		else
			p2pmr_fail(ret, "cannot open %s for %s: %s%s", path,
				   dev->bdf, strerror(-ret),
				   ret == -EBUSY ? " (the group is open elsewhere)" : "");
		ret = ret == -ENOENT ? -ENODEV : ret;
		goto err_free;
	}
	if (ioctl(g->fd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = p2pmr_fail(-errno, "VFIO_GROUP_GET_STATUS on %s: %s",
				 path, strerror(errno));
		goto err_close;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ret = p2pmr_fail(-EBUSY,
				 "IOMMU group %d of %s is not viable: bind every device in %s/kernel/iommu_groups/%d/devices to a VFIO driver or unbind it",
				 num, dev->bdf, p2pmr_sysfs_root(), num);
		goto err_close;
	}
	if (!c) {
		ret = container_new(dev->bdf, &c);
		if (ret)
			goto err_close;
	}
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &c->fd)) {
		ret = p2pmr_fail(-errno, "VFIO_GROUP_SET_CONTAINER for %s: %s",
				 dev->bdf, strerror(errno));
		goto err_container;
	}
	/* The IOMMU is set once per container, after its first group. */
	if (!c->refs && ioctl(c->fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = p2pmr_fail(-errno,
				 "VFIO_SET_IOMMU for %s: %s (VFIO needs IOMMU interrupt remapping)",
				 dev->bdf, strerror(errno));
		goto err_container;
	}
	c->refs++;
	g->container = c;
	g->refs = 1;
	g->next = groups;
	groups = g;
	*gp = g;
	return 0;

err_container:
	if (!c->refs) {
		c->refs = 1;
		close(g->fd);	/* detach before the container goes */
		g->fd = -1;
		container_put(c);
	}
err_close:
	if (g->fd >= 0)
		close(g->fd);
err_free:
	free(g);
	return ret;
}

#define ATTR_KNOWN (P2PMR_DEV_ATTR_CONTAINER | P2PMR_DEV_ATTR_VF_TOKEN | \
		    P2PMR_DEV_ATTR_IOMMUFD)
#define UUID_LEN 36

/*
 * A UUID in its text form (8-4-4-4-12 hex digits) into its 16 bytes; @out
 * may be NULL to only check it.  Returns 0 or -EINVAL.
 */
static int parse_uuid(const char *s, uint8_t *out)
{
	int i, n = 0;

	if (!s || strlen(s) != UUID_LEN)
		return -EINVAL;
	for (i = 0; i < UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		if (out && !(n & 1))
			out[n / 2] = 0;
		if (out)
			out[n / 2] |= (isdigit((unsigned char)s[i]) ? s[i] - '0' :
				       tolower((unsigned char)s[i]) - 'a' + 10) <<
				      (n & 1 ? 0 : 4);
		n++;
	}
	return 0;
}

/* The message and errno of a failed VFIO_DEVICE_BIND_IOMMUFD. */
static int bind_fail(const struct p2pmr_dev *dev, int gnum, const char *token,
		     int err)
{
	if (err == EBUSY)
		return p2pmr_fail(-EBUSY,
				  "cannot bind %s to an iommufd: its IOMMU group %d is open through %s/vfio/%d, in this process or another (a device is VFIO's through its group or through its cdev, not both at once)",
				  dev->bdf, gnum, p2pmr_dev_root(), gnum);
	if (err == EACCES)
		return p2pmr_fail(-EACCES,
				  "VFIO refused %s: %s (a VF of a PF that VFIO owns, or such a PF with VFs in use, opens only with the VF token its PF's owner set; see dmesg)",
				  dev->bdf, token ? "the VF token is not the PF's" :
						    "it needs a VF token");
	if (err == EINVAL && token)
		return p2pmr_fail(-EINVAL,
				  "VFIO refused the VF token for %s: it is neither a VF nor a PF, or this kernel takes no VF token through the cdev (VFIO_DEVICE_BIND_FLAG_TOKEN: 7.3 has it, 6.12 not)",
				  dev->bdf);
	/*
	 * A fresh cdev fd, a valid iommufd, no flags: VFIO's EINVAL is its
	 * "device open already" (vfio_df_open()), unless the driver's own
	 * open_device() said it.
	 */
	if (err == EINVAL)
		return p2pmr_fail(-EBUSY,
				  "VFIO refused to bind %s (EINVAL): it is most likely open through its VFIO cdev in another process (VFIO opens a device through its cdev once; else see dmesg)",
				  dev->bdf);
	return p2pmr_fail(-err, "VFIO_DEVICE_BIND_IOMMUFD of %s: %s", dev->bdf,
			  strerror(err));
}

/*
 * Open @dev through its VFIO cdev @cdev, bind it to the iommufd of @want
 * (NULL: a new one) and attach it to its IOAS; or, when the process has
 * the device open that way already, share that device's file (a cdev
 * binds once).  Sets dev->fd and dev->container.  Called under open_lock.
 */
static int cdev_get(struct p2pmr_dev *dev, int gnum, const char *cdev,
		    struct p2pmr_container *want, const char *token)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct bind_iommufd bind = { .argsz = BIND_SIZE_NO_TOKEN };
	struct p2pmr_container *c = want;
	char path[PATH_MAX];
	struct p2pmr_dev *o;
	uint8_t uuid[16];
	int ret;

	for (o = cdevs; o; o = o->next)
		if (!strcmp(o->bdf, dev->bdf))
			break;
	if (o) {
		if (want && o->container != want)
			return p2pmr_fail(-EBUSY,
					  "%s is already open through its VFIO cdev in another IOAS of this process",
					  dev->bdf);
		dev->fd = fcntl(o->fd, F_DUPFD_CLOEXEC, 0);
		if (dev->fd < 0)
			return p2pmr_fail(-errno, "cannot duplicate the fd of %s: %s",
					  dev->bdf, strerror(errno));
		c = o->container;
		goto done;
	}

	if (!c) {
		ret = ioas_new(dev, cdev, &c);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), "%s/vfio/devices/%s", p2pmr_dev_root(),
		 cdev);
	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		if (errno == ENOENT)
			ret = p2pmr_fail(-ENODEV,
					 "%s has the VFIO cdev %s in sysfs, but there is no %s: is VFIO's /dev/vfio/devices visible here (a container needs the node passed in)?",
					 dev->bdf, cdev, path);
		else
			ret = p2pmr_fail(-errno,
					 "cannot open %s for %s: %s (are you root?)",
					 path, dev->bdf, strerror(errno));
		goto err_container;
	}
	bind.iommufd = c->fd;
	if (token) {
		parse_uuid(token, uuid);
		bind.argsz = sizeof(bind);
		bind.flags = BIND_FLAG_TOKEN;
		bind.token_uuid_ptr = (uintptr_t)uuid;
	}
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		ret = bind_fail(dev, gnum, token, errno);
		goto err_close;
	}
	attach.pt_id = c->ioas_id;
	if (ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		ret = p2pmr_fail(-errno,
				 "VFIO_DEVICE_ATTACH_IOMMUFD_PT of %s to IOAS %u: %s%s",
				 dev->bdf, c->ioas_id, strerror(errno),
				 errno == EADDRINUSE ? " (DMA mappings of the IOAS overlap a region this device reserves, such as its MSI window: open every device before mapping memory)" : "");
		goto err_close;
	}
	/* Each device attached may narrow the IOAS's usable IOVA ranges. */
	pthread_mutex_lock(&c->lock);
	c->have_ranges = 0;
	pthread_mutex_unlock(&c->lock);
done:
	c->refs++;
	dev->container = c;
	dev->next = cdevs;
	cdevs = dev;
	return 0;

err_close:
	close(dev->fd);		/* unbinds the device */
err_container:
	if (!c->refs) {
		c->refs = 1;
		container_put(c);
	}
	return ret;
}

/* Undo cdev_get() once dev->fd is closed.  Called under open_lock. */
static void cdev_put(struct p2pmr_dev *dev)
{
	struct p2pmr_dev **pp;

	for (pp = &cdevs; *pp != dev; pp = &(*pp)->next)
		;
	*pp = dev->next;
	container_put(dev->container);
}

/*
 * Whether to open @dev through its cdev (its name into @cdev): asked for
 * (the attribute, or P2PMR_IOMMUFD=1), implied by the container to join,
 * or, by default, because its group @gnum has no node and it has a cdev.
 * Return: 1 cdev, 0 group, or a negative errno with the message set.
 */
static int pick_cdev(const struct p2pmr_dev *dev,
		     const struct p2pmr_dev_attr *attr, int gnum, char *cdev,
		     size_t len)
{
	const char *env = secure_getenv("P2PMR_IOMMUFD");
	int has = cdev_name(dev->bdf, cdev, len);
	char path[PATH_MAX];

	if (attr && (attr->comp_mask & P2PMR_DEV_ATTR_CONTAINER)) {
		if (!attr->container->container->iommufd)
			return 0;
	} else if (!(attr && (attr->comp_mask & P2PMR_DEV_ATTR_IOMMUFD)) &&
		   !(env && !strcmp(env, "1"))) {
		snprintf(path, sizeof(path), "%s/vfio/%d", p2pmr_dev_root(),
			 gnum);
		return has && access(path, F_OK) && errno == ENOENT;
	}
	if (!has)
		return p2pmr_fail(p2pmr_is_vfio_bound(NULL, dev->bdf) ?
				  -EOPNOTSUPP : -ENODEV,
				  "%s (bound to %s) has no VFIO cdev (no %s/bus/pci/devices/%s/vfio-dev/vfioN): opening it through iommufd needs a VFIO driver and a kernel with CONFIG_VFIO_DEVICE_CDEV",
				  dev->bdf, *dev->driver ? dev->driver : "(none)",
				  p2pmr_sysfs_root(), dev->bdf);
	return 1;
}

static int check_attr(const struct p2pmr_dev_attr *attr)
{
	if (!attr)
		return 0;
	if (attr->comp_mask & ~ATTR_KNOWN)
		return p2pmr_fail(-EOPNOTSUPP,
				  "p2pmr_dev_open_ex: comp_mask 0x%x has bits this libp2pmr does not know (0x%x)",
				  attr->comp_mask, attr->comp_mask & ~ATTR_KNOWN);
	if ((attr->comp_mask & P2PMR_DEV_ATTR_VF_TOKEN) &&
	    parse_uuid(attr->vf_token, NULL))
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dev_open_ex: the VF token '%.40s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				  attr->vf_token ? attr->vf_token : "(null)");
	if ((attr->comp_mask & P2PMR_DEV_ATTR_CONTAINER) &&
	    (!attr->container || !attr->container->container))
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dev_open_ex: the container attribute needs a device opened by p2pmr_dev_open(), not an adopted one");
	if ((attr->comp_mask & P2PMR_DEV_ATTR_CONTAINER) &&
	    (attr->comp_mask & P2PMR_DEV_ATTR_IOMMUFD) &&
	    !attr->container->container->iommufd)
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dev_open_ex: P2PMR_DEV_ATTR_IOMMUFD with a container attribute naming %s, which was opened through its group: a device opened through its cdev joins an IOAS, not a VFIO container",
				  attr->container->bdf);
	return 0;
}

int p2pmr_dev_open_ex(const char *bdf_in, const struct p2pmr_dev_attr *attr,
		      struct p2pmr_dev **devp)
{
	const char *sysfs = p2pmr_sysfs_root();
	struct p2pmr_container *want = NULL;
	const char *token = NULL;
	struct p2pmr_dev *dev;
	char name[sizeof(dev->bdf) + sizeof(" vf_token=") + UUID_LEN];
	int gnum, noiommu, ret, use_cdev;
	char cdev[64];

	p2pmr_clear_error();
	ret = check_attr(attr);
	if (ret)
		return ret;
	if (attr && (attr->comp_mask & P2PMR_DEV_ATTR_CONTAINER))
		want = attr->container->container;
	if (attr && (attr->comp_mask & P2PMR_DEV_ATTR_VF_TOKEN))
		token = attr->vf_token;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return p2pmr_fail(-ENOMEM, "out of memory");
	ret = p2pmr_parse_bdf(bdf_in, dev->bdf, sizeof(dev->bdf));
	if (ret)
		goto err_free;
	/* The driver only names the device in messages: VFIO decides. */
	ret = p2pmr_sysfs_driver(sysfs, dev->bdf, dev->driver,
				 sizeof(dev->driver));
	if (ret)
		goto err_free;
	if (p2pmr_sysfs_group(sysfs, dev->bdf, &gnum, &noiommu)) {
		ret = p2pmr_fail(-ENOTSUP,
				 "%s (driver %s) has no IOMMU group: enable the IOMMU (intel_iommu=on / amd_iommu=on)",
				 dev->bdf, *dev->driver ? dev->driver : "(none)");
		goto err_free;
	}
	if (noiommu) {
		ret = p2pmr_fail(-ENOTSUP,
				 "%s is in a vfio-noiommu group: peer-to-peer DMA needs an IOMMU",
				 dev->bdf);
		goto err_free;
	}
	use_cdev = pick_cdev(dev, attr, gnum, cdev, sizeof(cdev));
	if (use_cdev < 0) {
		ret = use_cdev;
		goto err_free;
	}

	pthread_mutex_lock(&open_lock);
	if (use_cdev) {
		ret = cdev_get(dev, gnum, cdev, want, token);
		if (ret)
			goto err_unlock;
		goto done;
	}
	ret = group_get(dev, gnum, want, &dev->group);
	if (ret)
		goto err_unlock;
	/* VFIO takes the token in the device's name (vfio_pci_core_match()). */
	if (token)
		snprintf(name, sizeof(name), "%s vf_token=%s", dev->bdf, token);
	else
		snprintf(name, sizeof(name), "%s", dev->bdf);
	dev->fd = ioctl(dev->group->fd, VFIO_GROUP_GET_DEVICE_FD, name);
	if (dev->fd < 0) {
		ret = -errno;
		if (ret == -EACCES)
			p2pmr_fail(ret,
				   "VFIO refused %s: %s (a VF of a PF that VFIO owns, or such a PF with VFs in use, opens only with the VF token its PF's owner set; see dmesg)",
				   dev->bdf, token ? "the VF token is not the PF's" :
						     "it needs a VF token");
		else if (ret == -EINVAL && token)
			p2pmr_fail(ret,
				   "VFIO refused the VF token for %s: it is neither a VF nor a PF (see dmesg)",
				   dev->bdf);
		else if (ret == -ENODEV || ret == -EINVAL)
			p2pmr_fail(-ENODEV,
				   "VFIO does not know %s (bound to %s), although its IOMMU group %d is VFIO's: bind it to vfio-pci-p2p, vfio-pci or a VFIO variant driver; see p2pmr(1)",
				   dev->bdf,
				   *dev->driver ? dev->driver : "(none)", gnum);
		else
			p2pmr_fail(ret, "VFIO_GROUP_GET_DEVICE_FD %s: %s",
				   dev->bdf, strerror(-ret));
		ret = ret == -EINVAL && !token ? -ENODEV : ret;
		group_put(dev->group);
		goto err_unlock;
	}
	dev->container = dev->group->container;
done:
	pthread_mutex_unlock(&open_lock);
	*devp = dev;
	return 0;

err_unlock:
	pthread_mutex_unlock(&open_lock);
err_free:
	free(dev);
	return p2pmr_ret(ret);
}

int p2pmr_dev_open(const char *bdf, struct p2pmr_dev **devp)
{
	return p2pmr_dev_open_ex(bdf, NULL, devp);
}

int p2pmr_dev_set_vf_token(struct p2pmr_dev *dev, const char *uuid)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t uuid[16];
	} f = {
		.hdr = { .argsz = sizeof(f),
			 .flags = VFIO_DEVICE_FEATURE_SET |
				  VFIO_DEVICE_FEATURE_PCI_VF_TOKEN },
	};
	int ret;

	p2pmr_clear_error();
	if (parse_uuid(uuid, f.uuid))
		return p2pmr_fail(-EINVAL,
				  "p2pmr_dev_set_vf_token: '%.40s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
				  uuid ? uuid : "(null)");
	if (!ioctl(dev->fd, VFIO_DEVICE_FEATURE, &f))
		return 0;
	ret = -errno;
	if (ret == -ENOTTY)
		return p2pmr_fail(-EINVAL,
				  "VFIO takes no VF token for %s: it is not an SR-IOV PF (a PF with an SR-IOV capability, bound to a VFIO driver)",
				  dev->bdf);
	return p2pmr_fail(ret, "VFIO_DEVICE_FEATURE_PCI_VF_TOKEN on %s: %s",
			  dev->bdf, strerror(-ret));
}

void p2pmr_dev_close(struct p2pmr_dev *dev)
{
	int saved = errno;

	if (!dev)
		return;
	close(dev->fd);
	if (dev->container) {
		pthread_mutex_lock(&open_lock);
		if (dev->group)
			group_put(dev->group);
		else
			cdev_put(dev);
		pthread_mutex_unlock(&open_lock);
	}
	free(dev);
	errno = saved;
}

int p2pmr_dev_adopt(int fd, const char *bdf, struct p2pmr_dev **devp)
{
	struct p2pmr_dev *dev;
	int ret;

	p2pmr_clear_error();
	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return p2pmr_fail(-EBADF, "p2pmr_dev_adopt: %d is not an open fd",
				  fd);
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return p2pmr_fail(-ENOMEM, "out of memory");
	snprintf(dev->bdf, sizeof(dev->bdf), "?");
	snprintf(dev->driver, sizeof(dev->driver), "?");
	if (bdf) {
		ret = p2pmr_parse_bdf(bdf, dev->bdf, sizeof(dev->bdf));
		if (ret)
			goto err_free;
		/* Only for messages: a missing sysfs entry is no error. */
		if (p2pmr_sysfs_driver(p2pmr_sysfs_root(), dev->bdf,
				       dev->driver, sizeof(dev->driver)) ||
		    !*dev->driver)
			snprintf(dev->driver, sizeof(dev->driver), "?");
		p2pmr_clear_error();
	}
	dev->fd = fd;
	*devp = dev;
	return 0;

err_free:
	free(dev);
	return p2pmr_ret(ret);
}

const char *p2pmr_dev_bdf(const struct p2pmr_dev *dev)
{
	return dev->bdf;
}

int p2pmr_dev_fd(const struct p2pmr_dev *dev)
{
	return dev->fd;
}

int p2pmr_dev_group_fd(const struct p2pmr_dev *dev)
{
	return dev->group ? dev->group->fd : -1;
}

int p2pmr_dev_container_fd(const struct p2pmr_dev *dev)
{
	return dev->container ? dev->container->fd : -1;
}

int p2pmr_dev_ioas_id(const struct p2pmr_dev *dev)
{
	return dev->container && dev->container->iommufd ?
	       (int)dev->container->ioas_id : -1;
}

static int bar_flags(struct p2pmr_dev *dev, uint32_t index, uint32_t *flags)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint32_t bar;

	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return -errno;
	if (pread(dev->fd, &bar, sizeof(bar),
		  cfg.offset + PCI_BASE_ADDRESS_0 + 4 * index) != sizeof(bar))
		return -EIO;
	if (!(bar & PCI_BASE_ADDRESS_SPACE_IO)) {
		*flags |= P2PMR_REGION_MEM;
		if (bar & PCI_BASE_ADDRESS_MEM_PREFETCH)
			*flags |= P2PMR_REGION_PREFETCH;
	}
	return 0;
}

int p2pmr_query_region(struct p2pmr_dev *dev, uint32_t index,
		       struct p2pmr_region *reg)
{
	struct vfio_region_info info = { .argsz = sizeof(info),
					 .index = index };
	int ret;

	p2pmr_clear_error();
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return p2pmr_fail(-errno, "%s has no region %u: %s", dev->bdf,
				  index, strerror(errno));
	memset(reg, 0, sizeof(*reg));
	reg->index = index;
	reg->size = info.size;
	reg->offset = info.offset;
	if (info.flags & VFIO_REGION_INFO_FLAG_READ)
		reg->flags |= P2PMR_REGION_READ;
	if (info.flags & VFIO_REGION_INFO_FLAG_WRITE)
		reg->flags |= P2PMR_REGION_WRITE;
	if (info.flags & VFIO_REGION_INFO_FLAG_MMAP)
		reg->flags |= P2PMR_REGION_MMAP;
	if (index <= VFIO_PCI_BAR5_REGION_INDEX && info.size) {
		ret = bar_flags(dev, index, &reg->flags);
		if (ret)
			return p2pmr_fail(ret, "cannot read BAR%u of %s", index,
					  dev->bdf);
	}
	return 0;
}

int p2pmr_region_mmap(struct p2pmr_dev *dev, uint32_t index, void **addrp,
		      size_t *lenp)
{
	struct p2pmr_region reg;
	void *p;
	int ret;

	ret = p2pmr_query_region(dev, index, &reg);
	if (ret)
		return ret;
	if (!(reg.flags & P2PMR_REGION_MMAP) || !reg.size)
		return p2pmr_fail(-EINVAL, "region %u of %s cannot be mmapped",
				  index, dev->bdf);
	p = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd,
		 reg.offset);
	if (p == MAP_FAILED)
		return p2pmr_fail(-errno, "mmap of region %u of %s: %s", index,
				  dev->bdf, strerror(errno));
	*addrp = p;
	*lenp = reg.size;
	return 0;
}
