/* The state tree of rantai.crypto.smt, in C: same roots and proofs, a fraction of the memory.

The tree hashed is the one that module's docstring defines (and ReferenceStateTree
implements): a binary sparse Merkle tree over 256-bit paths where a lone leaf stands for its
whole subtree. It is stored here as a compressed binary trie (a PATRICIA trie):

- a leaf holds its path and value digest (64 bytes) and no hash; its hash is one SHA-256,
  recomputed when a parent needs it;
- a branch is a node with leaves on both sides: the depth d of the bit it splits on, two
  child references, and the hash of its subtree seen from the top of the edge above it
  (the depth just below its parent branch's, or 0 for the root). Between a branch and its
  parent the definition has a chain of interior nodes with one empty child each; they are
  not stored: a branch's cached hash already includes them, and the bits they take come
  from any leaf below it.

Leaves and branches live in two arrays, referenced by 32-bit indices (the top bit tells a
leaf from a branch), with free lists for deleted entries: 64 + 44 bytes per leaf in all, and
no per-node allocation. An update walks each changed path, reshapes (an insert adds one
branch, a delete removes one) and marks the branches on the walk dirty; each dirty branch is
rehashed once: O(changed keys x depth), never O(tree). At millions of leaves the cost is
cache misses more than hashing, so a batch is applied in path order, the walks of 16 changes
are first run side by side to overlap their misses, and the subtree only one change touches
is rehashed right after that change, while it is in cache; a last pass rehashes the shared
top. The order of the changes cannot alter the result: the tree depends only on its leaves.

Threads: the tree is not locked. By contract one thread at a time uses it (the node holds
its block lock around updates and head proofs). Reads (get, prove, root, len) keep the GIL
throughout, so concurrent readers are safe. update and build copy and check their input
while holding the GIL and, for large batches, release it while they reshape and hash; a
call arriving meanwhile from another thread raises RuntimeError instead of racing.
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 but still built; on 65-byte inputs
   they take about 116 ns against 165-220 ns through a reused EVP_MD_CTX (same machine). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_SIZE 32
#define PATH_BITS 256
#define LEAF_TAG 0x02
#define NODE_TAG 0x03
#define LEAF_BIT 0x80000000u
#define NO_REF 0xFFFFFFFFu
/* Indices stay below this, so that no leaf reference equals NO_REF. */
#define INDEX_LIMIT 0x7FFFFFFFu
/* Below this many changes the GIL stays held: taking it back can wait for another thread's
   switch interval (5 ms), far longer than a small batch takes. */
#define GIL_RELEASE_CHANGES_MIN 1024
/* How many walks warm_walks runs side by side: about as many cache misses as a core can
   have in flight. */
#define WARM_GROUP 16

static const uint8_t ZERO_DIGEST[DIGEST_SIZE];

typedef struct {
    uint8_t path[DIGEST_SIZE];
    uint8_t value[DIGEST_SIZE];
} Leaf;

typedef struct {
    uint8_t hash[DIGEST_SIZE]; /* of the subtree, from the top of the edge above the branch */
    uint32_t child[2];         /* child[b]: the side whose paths have bit `depth` equal to b */
    uint8_t depth;
    uint8_t dirty; /* hash is stale: something below or the edge above changed */
} Branch;

/* A growable array of fixed-size items with a free list threaded through freed items. */
typedef struct {
    char *items;
    size_t item_size;
    uint32_t used;      /* items ever handed out (freed ones included) */
    uint32_t capacity;
    uint32_t free_head; /* NO_REF when empty */
} Arena;

typedef struct {
    PyObject_HEAD
    Arena leaves;
    Arena branches;
    uint32_t root; /* NO_REF for the empty tree */
    uint32_t leaf_count;
    uint8_t root_hash[DIGEST_SIZE];
    int busy; /* set while update or build runs without the GIL */
} Tree;

/* One entry of an update batch, copied out of the Python mapping. */
typedef struct {
    uint8_t path[DIGEST_SIZE];
    uint8_t value[DIGEST_SIZE];
    uint8_t remove;
} Change;

/* ---- storage ---- */

static void arena_init(Arena *arena, size_t item_size) {
    arena->items = NULL;
    arena->item_size = item_size;
    arena->used = arena->capacity = 0;
    arena->free_head = NO_REF;
}

/* Make room for `extra` more items, so that taking them cannot fail; 0, or -1 if out of memory
   or past INDEX_LIMIT. Freed items are not counted: the room reserved may be more than used. */
static int arena_reserve(Arena *arena, size_t extra) {
    size_t needed = (size_t)arena->used + extra;
    if (needed <= arena->capacity) {
        return 0;
    }
    if (needed > INDEX_LIMIT) {
        return -1;
    }
    size_t capacity = (size_t)arena->capacity + arena->capacity / 2;
    if (capacity < needed) {
        capacity = needed;
    }
    if (capacity > INDEX_LIMIT) {
        capacity = INDEX_LIMIT;
    }
    /* A large array is mapped pages: those past `used` cost no RSS until handed out. */
    char *items = realloc(arena->items, capacity * arena->item_size);
    if (items == NULL) {
        return -1;
    }
    arena->items = items;
    arena->capacity = (uint32_t)capacity;
    return 0;
}

/* Give back the room past `used` (the arena grew by half at a time while a build streamed its
   leaves in). Keeps the array as it is if the allocator cannot shrink it. */
static void arena_trim(Arena *arena) {
    if (arena->used == 0 || arena->used == arena->capacity) {
        return;
    }
    char *items = realloc(arena->items, (size_t)arena->used * arena->item_size);
    if (items != NULL) {
        arena->items = items;
        arena->capacity = arena->used;
    }
}

/* Make `copy` (empty) hold the same items as `arena`, in a new array; -1 if out of memory. */
static int arena_copy(Arena *copy, const Arena *arena) {
    if (arena->used == 0) {
        return 0;
    }
    size_t size = (size_t)arena->used * arena->item_size;
    copy->items = malloc(size);
    if (copy->items == NULL) {
        return -1;
    }
    memcpy(copy->items, arena->items, size);
    copy->used = copy->capacity = arena->used;
    copy->free_head = arena->free_head;
    return 0;
}

static uint32_t arena_take(Arena *arena) {
    uint32_t index = arena->free_head;
    if (index != NO_REF) {
        memcpy(&arena->free_head, arena->items + (size_t)index * arena->item_size,
               sizeof(uint32_t));
        return index;
    }
    return arena->used++;
}

static void arena_give_back(Arena *arena, uint32_t index) {
    memcpy(arena->items + (size_t)index * arena->item_size, &arena->free_head, sizeof(uint32_t));
    arena->free_head = index;
}

static inline Leaf *leaf_at(const Tree *tree, uint32_t ref) {
    return (Leaf *)tree->leaves.items + (ref & ~LEAF_BIT);
}

static inline Branch *branch_at(const Tree *tree, uint32_t ref) {
    return (Branch *)tree->branches.items + ref;
}

static inline int is_leaf(uint32_t ref) { return (ref & LEAF_BIT) != 0; }

/* ---- bits and hashes ---- */

/* Bit i of a path, counted from the most significant bit of byte 0. */
static inline int bit_at(const uint8_t *path, int i) { return (path[i >> 3] >> (7 - (i & 7))) & 1; }

/* The first bit where two paths differ; PATH_BITS when they are equal. */
static int first_difference(const uint8_t *a, const uint8_t *b) {
    for (int i = 0; i < DIGEST_SIZE; i++) {
        unsigned int differ = a[i] ^ b[i];
        if (differ) {
            return i * 8 + __builtin_clz(differ) - (int)(8 * (sizeof(unsigned int) - 1));
        }
    }
    return PATH_BITS;
}

static void sha256_65(const uint8_t preimage[1 + 2 * DIGEST_SIZE], uint8_t out[DIGEST_SIZE]) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, preimage, 1 + 2 * DIGEST_SIZE);
    SHA256_Final(out, &context);
}

static void hash_leaf(const Leaf *leaf, uint8_t out[DIGEST_SIZE]) {
    uint8_t preimage[1 + 2 * DIGEST_SIZE];
    preimage[0] = LEAF_TAG;
    memcpy(preimage + 1, leaf->path, DIGEST_SIZE);
    memcpy(preimage + 1 + DIGEST_SIZE, leaf->value, DIGEST_SIZE);
    sha256_65(preimage, out);
}

/* `hash` is a subtree's hash at `depth`; make it the hash at `top` (<= depth) of the chain of
   one-child interior nodes above it, which lie on `path` (any leaf path below). */
static void hash_chain(uint8_t hash[DIGEST_SIZE], const uint8_t *path, int depth, int top) {
    uint8_t preimage[1 + 2 * DIGEST_SIZE];
    preimage[0] = NODE_TAG;
    for (int d = depth - 1; d >= top; d--) {
        int right = bit_at(path, d);
        memcpy(preimage + 1 + (right ? DIGEST_SIZE : 0), hash, DIGEST_SIZE);
        memcpy(preimage + 1 + (right ? 0 : DIGEST_SIZE), ZERO_DIGEST, DIGEST_SIZE);
        sha256_65(preimage, hash);
    }
}

/* The hash of the subtree at `ref` seen from its edge's top: a leaf's own hash (a lone leaf
   stands for the subtree at any depth) or a clean branch's cached hash. */
static void edge_hash(const Tree *tree, uint32_t ref, uint8_t out[DIGEST_SIZE]) {
    if (is_leaf(ref)) {
        hash_leaf(leaf_at(tree, ref), out);
    } else {
        memcpy(out, branch_at(tree, ref)->hash, DIGEST_SIZE);
    }
}

/* ---- the walk, reshaping and rehashing ---- */

static inline void prefetch_node(const Tree *tree, uint32_t ref) {
    __builtin_prefetch(is_leaf(ref) ? (const void *)leaf_at(tree, ref)
                                    : (const void *)branch_at(tree, ref));
}

/* Follow `path`'s bit at each branch from the root down to a leaf, pushing the branches met
   onto `walk` (at most PATH_BITS: their depths strictly increase). Return the leaf, or NO_REF
   for the empty tree. The leaf need not hold `path`; first_difference tells how far it
   agrees, and so which of the branches met are really on `path`. */
static uint32_t descend(const Tree *tree, const uint8_t *path, uint32_t *walk, int *walk_length) {
    int length = 0;
    uint32_t ref = tree->root;
    while (ref != NO_REF && !is_leaf(ref)) {
        const Branch *branch = branch_at(tree, ref);
        walk[length++] = ref;
        ref = branch->child[bit_at(path, branch->depth)];
    }
    *walk_length = length;
    return ref;
}

static void mark_dirty(Tree *tree, const uint32_t *walk, int count) {
    for (int i = 0; i < count; i++) {
        branch_at(tree, walk[i])->dirty = 1;
    }
}

/* The slot holding the node below walk[at - 1] toward `path` (the root slot when at == 0). */
static uint32_t *slot_below(Tree *tree, const uint8_t *path, const uint32_t *walk, int at) {
    if (at == 0) {
        return &tree->root;
    }
    Branch *parent = branch_at(tree, walk[at - 1]);
    return &parent->child[bit_at(path, parent->depth)];
}

/* Walk the paths of `count` (at most WARM_GROUP) changes side by side, one level at a time,
   so that their cache misses overlap instead of queueing, and prefetch each sibling met, which
   the rehash reads. Only loads: the walks that follow find their nodes in cache. */
static void warm_walks(const Tree *tree, const Change *changes, int count) {
    uint32_t at[WARM_GROUP];
    for (int i = 0; i < count; i++) {
        at[i] = tree->root;
    }
    for (int moving = count; moving > 0;) {
        moving = 0;
        for (int i = 0; i < count; i++) {
            if (at[i] == NO_REF || is_leaf(at[i])) {
                continue;
            }
            const Branch *branch = branch_at(tree, at[i]);
            int side = bit_at(changes[i].path, branch->depth);
            prefetch_node(tree, branch->child[!side]);
            at[i] = branch->child[side];
            /* The next node too: the walk's next load, or the leaf the change will read. */
            prefetch_node(tree, at[i]);
            moving++;
        }
    }
}

/* Set one leaf; the arenas must have room for one more leaf and one more branch. `path`'s
   walk is left in `walk`: return 0 when the leaf existed (its value set, the walk still
   true), 1 when the trie was reshaped to add it (the walk is stale). */
static int insert_leaf(Tree *tree, const uint8_t *path, const uint8_t *value, uint32_t *walk,
                       int *walk_length_out) {
    int walk_length;
    uint32_t found = descend(tree, path, walk, &walk_length);
    *walk_length_out = walk_length;
    if (found != NO_REF) {
        Leaf *other = leaf_at(tree, found);
        int split = first_difference(path, other->path);
        if (split == PATH_BITS) {
            memcpy(other->value, value, DIGEST_SIZE);
            mark_dirty(tree, walk, walk_length);
            return 0;
        }
        /* The new branch splits on bit `split`, above the first node met deeper than that. */
        int at = 0;
        while (at < walk_length && branch_at(tree, walk[at])->depth < split) {
            at++;
        }
        uint32_t fresh = arena_take(&tree->leaves) | LEAF_BIT;
        memcpy(leaf_at(tree, fresh)->path, path, DIGEST_SIZE);
        memcpy(leaf_at(tree, fresh)->value, value, DIGEST_SIZE);
        uint32_t joint = arena_take(&tree->branches);
        uint32_t *slot = slot_below(tree, path, walk, at);
        uint32_t moved = *slot;
        Branch *branch = branch_at(tree, joint);
        int side = bit_at(path, split);
        branch->depth = (uint8_t)split;
        branch->dirty = 1;
        branch->child[side] = fresh;
        branch->child[!side] = moved;
        if (!is_leaf(moved)) {
            /* Its edge now starts below the new branch: its cached hash covers too much. */
            branch_at(tree, moved)->dirty = 1;
        }
        *slot = joint;
        mark_dirty(tree, walk, at);
    } else {
        uint32_t fresh = arena_take(&tree->leaves) | LEAF_BIT;
        memcpy(leaf_at(tree, fresh)->path, path, DIGEST_SIZE);
        memcpy(leaf_at(tree, fresh)->value, value, DIGEST_SIZE);
        tree->root = fresh;
    }
    tree->leaf_count++;
    return 1;
}

/* Remove the leaf at `path` if there is one: its parent branch goes and the sibling takes
   the parent's place, so a subtree left with one leaf hashes as that leaf. */
static void delete_leaf(Tree *tree, const uint8_t *path) {
    uint32_t walk[PATH_BITS];
    int walk_length;
    uint32_t found = descend(tree, path, walk, &walk_length);
    if (found == NO_REF || memcmp(leaf_at(tree, found)->path, path, DIGEST_SIZE) != 0) {
        return;
    }
    arena_give_back(&tree->leaves, found & ~LEAF_BIT);
    tree->leaf_count--;
    if (walk_length == 0) {
        tree->root = NO_REF;
        return;
    }
    uint32_t parent = walk[walk_length - 1];
    Branch *gone = branch_at(tree, parent);
    uint32_t survivor = gone->child[!bit_at(path, gone->depth)];
    *slot_below(tree, path, walk, walk_length - 1) = survivor;
    if (!is_leaf(survivor)) {
        /* Its edge now starts higher up: its cached hash covers too little. */
        branch_at(tree, survivor)->dirty = 1;
    }
    arena_give_back(&tree->branches, parent);
    mark_dirty(tree, walk, walk_length - 1);
}

/* Any leaf below `ref`, for the bits of the chain above a branch. */
static uint32_t leftmost_leaf(const Tree *tree, uint32_t ref) {
    while (!is_leaf(ref)) {
        ref = branch_at(tree, ref)->child[0];
    }
    return ref;
}

/* Write the hash of the subtree at `ref` seen from depth `top`, rehashing the dirty branches
   below once each. Return a leaf below `ref` if one was met on the way, else NO_REF. */
static uint32_t rehash(Tree *tree, uint32_t ref, int top, uint8_t out[DIGEST_SIZE]) {
    if (is_leaf(ref)) {
        hash_leaf(leaf_at(tree, ref), out);
        return ref;
    }
    Branch *branch = branch_at(tree, ref);
    if (!branch->dirty) {
        memcpy(out, branch->hash, DIGEST_SIZE);
        return NO_REF;
    }
    uint8_t preimage[1 + 2 * DIGEST_SIZE];
    preimage[0] = NODE_TAG;
    int below = branch->depth + 1;
    uint32_t met = rehash(tree, branch->child[0], below, preimage + 1);
    uint32_t met_right = rehash(tree, branch->child[1], below, preimage + 1 + DIGEST_SIZE);
    if (met == NO_REF) {
        met = met_right;
    }
    sha256_65(preimage, branch->hash);
    if (branch->depth > top) {
        if (met == NO_REF) {
            met = leftmost_leaf(tree, branch->child[0]);
        }
        hash_chain(branch->hash, leaf_at(tree, met)->path, branch->depth, top);
    }
    branch->dirty = 0;
    memcpy(out, branch->hash, DIGEST_SIZE);
    return met;
}

/* Rehash the part of `path`'s walk that no later change of the batch (sorted by path) will
   touch: the subtree under the first branch deeper than `settled`, the number of leading bits
   `path` shares with the next change. Its nodes were just walked, so they are in cache; left
   to the final pass, most would have been evicted. Were a later change to reach it after all,
   that change marks what it alters dirty again, as ever. `walk` is `path`'s walk as the tree
   now stands. */
static void rehash_settled(Tree *tree, const uint32_t *walk, int walk_length, int settled) {
    for (int i = 0; i < walk_length; i++) {
        Branch *branch = branch_at(tree, walk[i]);
        if (branch->depth > settled) {
            if (branch->dirty) {
                uint8_t hash[DIGEST_SIZE];
                int top = i == 0 ? 0 : branch_at(tree, walk[i - 1])->depth + 1;
                rehash(tree, walk[i], top, hash);
            }
            return;
        }
    }
}

static void rehash_root(Tree *tree) {
    if (tree->root == NO_REF) {
        memcpy(tree->root_hash, ZERO_DIGEST, DIGEST_SIZE);
    } else {
        rehash(tree, tree->root, 0, tree->root_hash);
    }
}

/* Link sorted leaves 0..count-1 into a trie, every branch dirty; 0, or -1 on a repeated path.
   The branch between neighbours i and i+1 splits on the first bit where they differ; the
   branches on the right edge of the trie built so far are kept on a stack, deepest last. */
static int link_sorted(Tree *tree, uint32_t count) {
    uint32_t spine[PATH_BITS];
    int spine_length = 0;
    const Leaf *leaves = (const Leaf *)tree->leaves.items;
    uint32_t last = 0 | LEAF_BIT;
    for (uint32_t i = 1; i < count; i++) {
        int split = first_difference(leaves[i - 1].path, leaves[i].path);
        if (split == PATH_BITS) {
            return -1;
        }
        uint32_t below = last;
        while (spine_length > 0 && branch_at(tree, spine[spine_length - 1])->depth > split) {
            uint32_t done = spine[--spine_length];
            branch_at(tree, done)->child[1] = below;
            below = done;
        }
        uint32_t joint = arena_take(&tree->branches);
        Branch *branch = branch_at(tree, joint);
        branch->depth = (uint8_t)split;
        branch->dirty = 1;
        branch->child[0] = below;
        spine[spine_length++] = joint;
        last = i | LEAF_BIT;
    }
    while (spine_length > 0) {
        uint32_t done = spine[--spine_length];
        branch_at(tree, done)->child[1] = last;
        last = done;
    }
    tree->root = count ? last : NO_REF;
    tree->leaf_count = count;
    return 0;
}

static int compare_leaf_paths(const void *a, const void *b) {
    return memcmp(((const Leaf *)a)->path, ((const Leaf *)b)->path, DIGEST_SIZE);
}

/* ---- the Python type ---- */

static void tree_init_empty(Tree *tree) {
    arena_init(&tree->leaves, sizeof(Leaf));
    arena_init(&tree->branches, sizeof(Branch));
    tree->root = NO_REF;
    tree->leaf_count = 0;
    memcpy(tree->root_hash, ZERO_DIGEST, DIGEST_SIZE);
    tree->busy = 0;
}

static int check_not_busy(const Tree *tree) {
    if (tree->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the state tree is being updated by another thread");
        return -1;
    }
    return 0;
}

/* Copy a 32-byte bytes object to `out`; -1 with TypeError or ValueError otherwise. */
static int copy_digest(PyObject *object, const char *name, uint8_t out[DIGEST_SIZE]) {
    if (!PyBytes_Check(object)) {
        PyErr_Format(PyExc_TypeError, "a state tree %s is bytes, got %.100s", name,
                     Py_TYPE(object)->tp_name);
        return -1;
    }
    if (PyBytes_GET_SIZE(object) != DIGEST_SIZE) {
        PyErr_Format(PyExc_ValueError, "state tree paths and value digests are %d bytes",
                     DIGEST_SIZE);
        return -1;
    }
    memcpy(out, PyBytes_AS_STRING(object), DIGEST_SIZE);
    return 0;
}

static int copy_path_argument(PyObject *path, uint8_t out[DIGEST_SIZE]) {
    if (PyBytes_Check(path) && PyBytes_GET_SIZE(path) != DIGEST_SIZE) {
        PyErr_Format(PyExc_ValueError, "a state tree path is %d bytes, got %zd", DIGEST_SIZE,
                     PyBytes_GET_SIZE(path));
        return -1;
    }
    return copy_digest(path, "path", out);
}

static PyObject *tree_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "a new state tree takes no arguments; see build()");
        return NULL;
    }
    Tree *tree = (Tree *)type->tp_alloc(type, 0);
    if (tree != NULL) {
        tree_init_empty(tree);
    }
    return (PyObject *)tree;
}

static void tree_dealloc(Tree *tree) {
    free(tree->leaves.items);
    free(tree->branches.items);
    Py_TYPE(tree)->tp_free((PyObject *)tree);
}

/* Copy one (path, value_digest) pair of build's input into `leaf`. */
static int copy_pair(PyObject *pair, Leaf *leaf) {
    if (PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2) {
        if (copy_digest(PyTuple_GET_ITEM(pair, 0), "path", leaf->path)) {
            return -1;
        }
        return copy_digest(PyTuple_GET_ITEM(pair, 1), "value digest", leaf->value);
    }
    PyObject *items = PySequence_Fast(pair, "a state tree leaf is a (path, value_digest) pair");
    if (items == NULL) {
        return -1;
    }
    int result = -1;
    if (PySequence_Fast_GET_SIZE(items) != 2) {
        PyErr_SetString(PyExc_ValueError, "a state tree leaf is a (path, value_digest) pair");
    } else if (copy_digest(PySequence_Fast_GET_ITEM(items, 0), "path", leaf->path) == 0 &&
               copy_digest(PySequence_Fast_GET_ITEM(items, 1), "value digest", leaf->value) == 0) {
        result = 0;
    }
    Py_DECREF(items);
    return result;
}

static PyObject *tree_build(PyTypeObject *type, PyObject *leaves_in) {
    /* The leaves are read one at a time from an iterator, straight into the arena: a list of
       millions of (path, digest) tuples would cost more memory than the tree itself. */
    PyObject *iterator = PyObject_GetIter(leaves_in);
    if (iterator == NULL) {
        return NULL;
    }
    Tree *tree = (Tree *)type->tp_alloc(type, 0);
    if (tree == NULL) {
        Py_DECREF(iterator);
        return NULL;
    }
    tree_init_empty(tree);
    Py_ssize_t hint = PyObject_LengthHint(leaves_in, 0);
    if (hint < 0 || ((size_t)hint < INDEX_LIMIT && arena_reserve(&tree->leaves, (size_t)hint))) {
        Py_DECREF(iterator);
        Py_DECREF(tree);
        return hint < 0 ? NULL : PyErr_NoMemory();
    }
    PyObject *pair;
    while ((pair = PyIter_Next(iterator)) != NULL) {
        if (arena_reserve(&tree->leaves, 1)) {
            Py_DECREF(pair);
            Py_DECREF(iterator);
            Py_DECREF(tree);
            return PyErr_NoMemory();
        }
        Leaf *leaf = (Leaf *)tree->leaves.items + tree->leaves.used;
        int copied = copy_pair(pair, leaf);
        Py_DECREF(pair);
        if (copied) {
            Py_DECREF(iterator);
            Py_DECREF(tree);
            return NULL;
        }
        tree->leaves.used++;
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) {
        Py_DECREF(tree);
        return NULL;
    }
    uint32_t count = tree->leaves.used;
    arena_trim(&tree->leaves);
    Leaf *leaves = (Leaf *)tree->leaves.items;
    if (arena_reserve(&tree->branches, count)) {
        Py_DECREF(tree);
        return PyErr_NoMemory();
    }
    /* No other thread can see the new tree yet: no need to mark it busy. */
    PyThreadState *saved = count >= GIL_RELEASE_CHANGES_MIN ? PyEval_SaveThread() : NULL;
    qsort(leaves, (size_t)count, sizeof(Leaf), compare_leaf_paths);
    int linked = link_sorted(tree, count);
    if (linked == 0) {
        rehash_root(tree);
    }
    if (saved != NULL) {
        PyEval_RestoreThread(saved);
    }
    if (linked != 0) {
        Py_DECREF(tree);
        PyErr_SetString(PyExc_ValueError, "a path appears twice among the state tree leaves");
        return NULL;
    }
    return (PyObject *)tree;
}

/* Copy one change into `change`: -1 with TypeError or ValueError if malformed. */
static int copy_change(PyObject *path, PyObject *value, Change *change) {
    change->remove = value == Py_None;
    if (copy_digest(path, "path", change->path)) {
        return -1;
    }
    return change->remove ? 0 : copy_digest(value, "value digest", change->value);
}

/* Copy `changes` (a mapping path -> value digest or None) into a new array; NULL on error.
   A dict is read in place: making its items() would allocate a tuple per change. */
static Change *copy_changes(PyObject *changes, Py_ssize_t *count_out, size_t *inserts_out) {
    PyObject *items = NULL;
    if (!PyDict_Check(changes)) {
        items = PyMapping_Items(changes);
        if (items == NULL) {
            return NULL;
        }
    }
    Py_ssize_t count = items == NULL ? PyDict_GET_SIZE(changes) : PyList_GET_SIZE(items);
    Change *copied = PyMem_RawMalloc(count ? (size_t)count * sizeof(Change) : 1);
    if (copied == NULL) {
        Py_XDECREF(items);
        PyErr_NoMemory();
        return NULL;
    }
    int failed = 0;
    if (items == NULL) {
        Py_ssize_t position = 0, i = 0;
        PyObject *path, *value;
        while (!failed && PyDict_Next(changes, &position, &path, &value)) {
            failed = copy_change(path, value, &copied[i++]);
        }
    } else {
        for (Py_ssize_t i = 0; !failed && i < count; i++) {
            PyObject *item = PyList_GET_ITEM(items, i);
            if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
                PyErr_SetString(PyExc_TypeError, "state tree changes must be a mapping");
                failed = 1;
            } else {
                failed = copy_change(PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1),
                                     &copied[i]);
            }
        }
        Py_DECREF(items);
    }
    if (failed) {
        PyMem_RawFree(copied);
        return NULL;
    }
    size_t inserts = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        inserts += !copied[i].remove;
    }
    *count_out = count;
    *inserts_out = inserts;
    return copied;
}

static int compare_change_paths(const void *a, const void *b) {
    return memcmp(((const Change *)a)->path, ((const Change *)b)->path, DIGEST_SIZE);
}

/* Apply a checked batch. Sorted by path, consecutive changes share the top of their walks,
   and each change's own subtree can be rehashed as soon as the walks move past it. */
static void apply_changes(Tree *tree, Change *changes, Py_ssize_t count) {
    qsort(changes, (size_t)count, sizeof(Change), compare_change_paths);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (i % WARM_GROUP == 0) {
            warm_walks(tree, changes + i, (int)(count - i < WARM_GROUP ? count - i : WARM_GROUP));
        }
        const uint8_t *path = changes[i].path;
        uint32_t walk[PATH_BITS];
        int walk_length;
        /* Most changes set a leaf that exists: one walk serves the change and the rehash. */
        int reshaped = 1;
        if (changes[i].remove) {
            delete_leaf(tree, path);
        } else {
            reshaped = insert_leaf(tree, path, changes[i].value, walk, &walk_length);
        }
        if (i + 1 < count) {
            if (reshaped) {
                descend(tree, path, walk, &walk_length);
            }
            rehash_settled(tree, walk, walk_length, first_difference(path, changes[i + 1].path));
        }
    }
    rehash_root(tree);
}

static PyObject *tree_update(Tree *tree, PyObject *changes) {
    if (check_not_busy(tree)) {
        return NULL;
    }
    Py_ssize_t count;
    size_t inserts;
    Change *copied = copy_changes(changes, &count, &inserts);
    if (copied == NULL) {
        return NULL;
    }
    /* Reserve first, so that nothing below can fail halfway through the batch. */
    if (arena_reserve(&tree->leaves, inserts) || arena_reserve(&tree->branches, inserts)) {
        PyMem_RawFree(copied);
        return PyErr_NoMemory();
    }
    tree->busy = 1;
    PyThreadState *saved = count >= GIL_RELEASE_CHANGES_MIN ? PyEval_SaveThread() : NULL;
    apply_changes(tree, copied, count);
    if (saved != NULL) {
        PyEval_RestoreThread(saved);
    }
    tree->busy = 0;
    PyMem_RawFree(copied);
    return PyBytes_FromStringAndSize((const char *)tree->root_hash, DIGEST_SIZE);
}

static PyObject *tree_get(Tree *tree, PyObject *path_in) {
    uint8_t path[DIGEST_SIZE];
    if (check_not_busy(tree) || copy_path_argument(path_in, path)) {
        return NULL;
    }
    uint32_t walk[PATH_BITS];
    int walk_length;
    uint32_t found = descend(tree, path, walk, &walk_length);
    if (found == NO_REF || memcmp(leaf_at(tree, found)->path, path, DIGEST_SIZE) != 0) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize((const char *)leaf_at(tree, found)->value, DIGEST_SIZE);
}

static int append_sibling(PyObject *siblings, const uint8_t hash[DIGEST_SIZE]) {
    /* An empty sibling is written b"" to keep proofs small. */
    int empty = memcmp(hash, ZERO_DIGEST, DIGEST_SIZE) == 0;
    PyObject *sibling = PyBytes_FromStringAndSize(empty ? NULL : (const char *)hash,
                                                  empty ? 0 : DIGEST_SIZE);
    if (sibling == NULL) {
        return -1;
    }
    int result = PyList_Append(siblings, sibling);
    Py_DECREF(sibling);
    return result;
}

static int append_empty_siblings(PyObject *siblings, int count) {
    for (int i = 0; i < count; i++) {
        if (append_sibling(siblings, ZERO_DIGEST)) {
            return -1;
        }
    }
    return 0;
}

/* The siblings of the walk toward `path` and the leaf where it ends (or NULLs). */
static PyObject *tree_proof_parts(Tree *tree, PyObject *path_in) {
    uint8_t path[DIGEST_SIZE];
    if (check_not_busy(tree) || copy_path_argument(path_in, path)) {
        return NULL;
    }
    PyObject *siblings = PyList_New(0);
    if (siblings == NULL) {
        return NULL;
    }
    uint32_t walk[PATH_BITS];
    int walk_length;
    uint32_t found = descend(tree, path, walk, &walk_length);
    if (found == NO_REF) {
        return Py_BuildValue("(NOO)", siblings, Py_None, Py_None);
    }
    /* Start loading every sibling at once, so that their cache misses overlap. */
    for (int i = 0; i < walk_length; i++) {
        const Branch *branch = branch_at(tree, walk[i]);
        prefetch_node(tree, branch->child[!bit_at(path, branch->depth)]);
    }
    const Leaf *leaf = leaf_at(tree, found);
    /* The branches met that split deeper than `agreed` are not on `path`. */
    int agreed = first_difference(path, leaf->path);
    int depth = 0; /* of the node the walk is at */
    uint8_t hash[DIGEST_SIZE];
    for (int i = 0; i < walk_length; i++) {
        const Branch *branch = branch_at(tree, walk[i]);
        if (branch->depth > agreed) {
            /* `path` leaves this branch's chain at bit `agreed`, into an empty subtree. */
            uint8_t preimage[1 + 2 * DIGEST_SIZE];
            preimage[0] = NODE_TAG;
            edge_hash(tree, branch->child[0], preimage + 1);
            edge_hash(tree, branch->child[1], preimage + 1 + DIGEST_SIZE);
            sha256_65(preimage, hash);
            hash_chain(hash, leaf->path, branch->depth, agreed + 1);
            if (append_empty_siblings(siblings, agreed - depth) || append_sibling(siblings, hash)) {
                Py_DECREF(siblings);
                return NULL;
            }
            return Py_BuildValue("(NOO)", siblings, Py_None, Py_None);
        }
        edge_hash(tree, branch->child[!bit_at(path, branch->depth)], hash);
        if (append_empty_siblings(siblings, branch->depth - depth) ||
            append_sibling(siblings, hash)) {
            Py_DECREF(siblings);
            return NULL;
        }
        depth = branch->depth + 1;
    }
    return Py_BuildValue("(Ny#y#)", siblings, (const char *)leaf->path, (Py_ssize_t)DIGEST_SIZE,
                         (const char *)leaf->value, (Py_ssize_t)DIGEST_SIZE);
}

static PyObject *tree_root(Tree *tree, void *closure) {
    (void)closure;
    if (check_not_busy(tree)) {
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)tree->root_hash, DIGEST_SIZE);
}

static Py_ssize_t tree_length(Tree *tree) {
    return check_not_busy(tree) ? -1 : (Py_ssize_t)tree->leaf_count;
}

/* copy.copy and copy.deepcopy: the tree holds no Python objects, so both copy the arrays. */
static PyObject *tree_copy(Tree *tree, PyObject *unused) {
    (void)unused;
    if (check_not_busy(tree)) {
        return NULL;
    }
    Tree *copy = (Tree *)Py_TYPE(tree)->tp_alloc(Py_TYPE(tree), 0);
    if (copy == NULL) {
        return NULL;
    }
    tree_init_empty(copy);
    if (arena_copy(&copy->leaves, &tree->leaves) || arena_copy(&copy->branches, &tree->branches)) {
        Py_DECREF(copy);
        return PyErr_NoMemory();
    }
    copy->root = tree->root;
    copy->leaf_count = tree->leaf_count;
    memcpy(copy->root_hash, tree->root_hash, DIGEST_SIZE);
    return (PyObject *)copy;
}

static PyObject *tree_sizeof(Tree *tree, PyObject *unused) {
    (void)unused;
    size_t size = Py_TYPE(tree)->tp_basicsize +
                  (size_t)tree->leaves.capacity * tree->leaves.item_size +
                  (size_t)tree->branches.capacity * tree->branches.item_size;
    return PyLong_FromSize_t(size);
}

static PyMethodDef tree_methods[] = {
    {"build", (PyCFunction)tree_build, METH_O | METH_CLASS,
     "Return a tree holding `leaves`, (path, value_digest) pairs.\n\n"
     "Raises ValueError on a path or digest that is not 32 bytes, or a repeated path."},
    {"update", (PyCFunction)tree_update, METH_O,
     "Apply a batch: path -> value digest, or path -> None to delete; return the root.\n\n"
     "Deleting an absent path is a no-op. Raises ValueError (tree unchanged) when a path or\n"
     "digest is not 32 bytes."},
    {"get", (PyCFunction)tree_get, METH_O,
     "Return the value digest at `path`, or None when the path holds no leaf."},
    {"proof_parts", (PyCFunction)tree_proof_parts, METH_O,
     "Return (siblings, leaf_path, leaf_value_digest): the fields of path's StateProof."},
    {"__copy__", (PyCFunction)tree_copy, METH_NOARGS, "An independent copy of the tree."},
    {"__deepcopy__", (PyCFunction)tree_copy, METH_O, "An independent copy of the tree."},
    {"__sizeof__", (PyCFunction)tree_sizeof, METH_NOARGS,
     "Bytes held: the object and the capacity of its two arrays."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef tree_getset[] = {
    {"root", (getter)tree_root, NULL, "The root hash; ZERO_DIGEST for an empty tree.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods tree_as_sequence = {
    .sq_length = (lenfunc)tree_length,
};

static PyTypeObject TreeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "rantai.crypto._smt.NativeStateTree",
    .tp_doc = "The state tree of rantai.crypto.smt as a compressed binary trie in C.",
    .tp_basicsize = sizeof(Tree),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = tree_new,
    .tp_dealloc = (destructor)tree_dealloc,
    .tp_methods = tree_methods,
    .tp_getset = tree_getset,
    .tp_as_sequence = &tree_as_sequence,
};

static struct PyModuleDef smt_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rantai.crypto._smt",
    .m_doc = "The native state tree; rantai.crypto.smt wraps it as StateTree.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__smt(void) {
    if (PyType_Ready(&TreeType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&smt_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "NativeStateTree", (PyObject *)&TreeType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
