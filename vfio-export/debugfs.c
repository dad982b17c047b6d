// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/vfio-pci-p2p/<device>/dmabufs: each exported buffer and
 * each of its attachments.
 */
#include <linux/debugfs.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/seq_file.h>

#include "vpp.h"

static struct dentry *vpp_debugfs_root;

static void vpp_show_buf(struct seq_file *s, struct vpp_dmabuf *priv)
{
	struct dma_buf_attachment *attach;
	u32 i;

	seq_printf(s, "dmabuf inode %llu device %s bar %u size %zu revoked %d closed %d mappings %u vmap %d\n",
		   (unsigned long long)file_inode(priv->dmabuf->file)->i_ino, priv->name, priv->bar,
		   priv->size, priv->revoked, priv->dead, priv->nr_mapped,
		   !!priv->vaddr);
	for (i = 0; i < priv->nr_ranges; i++)
		seq_printf(s, "  range %u offset 0x%llx length 0x%llx\n", i,
			   priv->ranges[i].offset, priv->ranges[i].len);
	list_for_each_entry(attach, &priv->dmabuf->attachments, node) {
		struct vpp_attach *pa = attach->priv;

		seq_printf(s, "  attachment %s route %s maps %u revokes %u\n",
			   dev_name(attach->dev),
			   pa->maps ? vpp_route_name(pa->route) :
				      (priv->vaddr ? "cpu" : "-"),
			   pa->maps, pa->revokes);
	}
}

static int vpp_dmabufs_show(struct seq_file *s, void *unused)
{
	struct vpp_device *p2p = s->private;
	struct vpp_dmabuf *priv;

	mutex_lock(&p2p->lock);
	list_for_each_entry(priv, &p2p->dmabufs, link) {
		if (!get_file_active(&priv->dmabuf->file))
			continue;
		dma_resv_lock(priv->dmabuf->resv, NULL);
		vpp_show_buf(s, priv);
		dma_resv_unlock(priv->dmabuf->resv);
		fput(priv->dmabuf->file);
	}
	mutex_unlock(&p2p->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vpp_dmabufs);

void vpp_debugfs_add(struct vpp_device *p2p)
{
	p2p->debugfs = debugfs_create_dir(pci_name(p2p->core.pdev),
					  vpp_debugfs_root);
	debugfs_create_file("dmabufs", 0400, p2p->debugfs, p2p,
			    &vpp_dmabufs_fops);
}

void vpp_debugfs_remove(struct vpp_device *p2p)
{
	debugfs_remove_recursive(p2p->debugfs);
}

void vpp_debugfs_init(void)
{
	vpp_debugfs_root = debugfs_create_dir("vfio-pci-p2p", NULL);
}

void vpp_debugfs_exit(void)
{
	debugfs_remove_recursive(vpp_debugfs_root);
}
