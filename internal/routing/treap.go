package routing

// An order-statistic treap per queue holds its waiting interactions in
// queue order (ixBefore), so Position is O(log n) instead of a scan.
// Node fields live in ixState; priorities come from the engine's seeded
// generator, so the shape (and everything else) is deterministic.

func tsize(t *ixState) int {
	if t == nil {
		return 0
	}
	return t.tsz
}

func tfix(t *ixState) { t.tsz = 1 + tsize(t.tl) + tsize(t.tr) }

// tsplit splits t into the nodes before k and the rest.
func tsplit(t, k *ixState) (*ixState, *ixState) {
	if t == nil {
		return nil, nil
	}
	if ixBefore(t, k) {
		l, r := tsplit(t.tr, k)
		t.tr = l
		tfix(t)
		return t, r
	}
	l, r := tsplit(t.tl, k)
	t.tl = r
	tfix(t)
	return l, t
}

// tmerge joins a and b, every node of a being before every node of b.
func tmerge(a, b *ixState) *ixState {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	if a.tp > b.tp {
		a.tr = tmerge(a.tr, b)
		tfix(a)
		return a
	}
	b.tl = tmerge(a, b.tl)
	tfix(b)
	return b
}

func tinsert(root, n *ixState, prio uint32) *ixState {
	n.tl, n.tr, n.tp, n.tsz = nil, nil, prio, 1
	if root == nil {
		return n
	}
	if n.tp > root.tp {
		n.tl, n.tr = tsplit(root, n)
		tfix(n)
		return n
	}
	if ixBefore(n, root) {
		root.tl = tinsert(root.tl, n, prio)
	} else {
		root.tr = tinsert(root.tr, n, prio)
	}
	tfix(root)
	return root
}

func tdelete(root, n *ixState) *ixState {
	if root == nil {
		return nil
	}
	if root == n {
		m := tmerge(n.tl, n.tr)
		n.tl, n.tr, n.tsz = nil, nil, 0
		return m
	}
	if ixBefore(n, root) {
		root.tl = tdelete(root.tl, n)
	} else {
		root.tr = tdelete(root.tr, n)
	}
	tfix(root)
	return root
}

// trank returns how many nodes come before n (n must be in the tree).
func trank(root, n *ixState) int {
	r := 0
	for t := root; t != nil; {
		if t == n {
			return r + tsize(t.tl)
		}
		if ixBefore(n, t) {
			t = t.tl
		} else {
			r += tsize(t.tl) + 1
			t = t.tr
		}
	}
	return -1
}
