/* Hashing loops of the block path, in C: the same digests as rantai.crypto.merkle and
rantai.core.ledger compute in Python, without a Python call per hash.

- merkle_root(leaves): the RFC 9162 Merkle Tree Hash of a sequence of bytes objects, level
  by level (an odd last node goes up unchanged), as rantai.crypto.merkle.merkle_root.
- hashed_changes(changes): {SHA-256(key as UTF-8): SHA-256(value) or None} for a mapping of
  str keys to bytes values or None: a block's state changes as state-tree paths and leaf
  digests (rantai.core.ledger.state_path).

Measured in Python on the machine of session 5: 2.3 us a leaf for a root of 1,000 leaves and
2.1 us a changed key; a block of 2,000 transfers hashes ~9,000 keys and 4,000 leaves.
*/

#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* SHA256_Init/Update/Final are deprecated in OpenSSL 3 but still built: see _smt.c. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define DIGEST_SIZE 32

static const uint8_t LEAF_PREFIX = 0x00;
static const uint8_t NODE_PREFIX = 0x01;

static PyObject *merkle_root(PyObject *module, PyObject *leaves_in) {
    (void)module;
    PyObject *leaves = PySequence_Fast(leaves_in, "leaves must be a sequence of bytes");
    if (leaves == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(leaves);
    uint8_t root[DIGEST_SIZE];
    if (count == 0) {
        SHA256((const uint8_t *)"", 0, root);
        Py_DECREF(leaves);
        return PyBytes_FromStringAndSize((const char *)root, DIGEST_SIZE);
    }
    uint8_t (*level)[DIGEST_SIZE] = PyMem_RawMalloc((size_t)count * DIGEST_SIZE);
    if (level == NULL) {
        Py_DECREF(leaves);
        return PyErr_NoMemory();
    }
    PyObject **items = PySequence_Fast_ITEMS(leaves);
    for (Py_ssize_t i = 0; i < count; i++) {
        char *data;
        Py_ssize_t size;
        if (!PyBytes_Check(items[i])) {
            PyErr_Format(PyExc_TypeError, "leaf %zd is not bytes", i);
            PyMem_RawFree(level);
            Py_DECREF(leaves);
            return NULL;
        }
        PyBytes_AsStringAndSize(items[i], &data, &size);
        SHA256_CTX ctx;
        SHA256_Init(&ctx);
        SHA256_Update(&ctx, &LEAF_PREFIX, 1);
        SHA256_Update(&ctx, data, (size_t)size);
        SHA256_Final(level[i], &ctx);
    }
    Py_DECREF(leaves);
    /* Pairs hash in place: node j of the next level overwrites slot j, which was read. */
    Py_ssize_t width = count;
    while (width > 1) {
        Py_ssize_t up = 0;
        for (Py_ssize_t j = 0; j + 1 < width; j += 2) {
            SHA256_CTX ctx;
            SHA256_Init(&ctx);
            SHA256_Update(&ctx, &NODE_PREFIX, 1);
            SHA256_Update(&ctx, level[j], DIGEST_SIZE);
            SHA256_Update(&ctx, level[j + 1], DIGEST_SIZE);
            SHA256_Final(level[up++], &ctx);
        }
        if (width % 2) {
            memmove(level[up++], level[width - 1], DIGEST_SIZE);
        }
        width = up;
    }
    memcpy(root, level[0], DIGEST_SIZE);
    PyMem_RawFree(level);
    return PyBytes_FromStringAndSize((const char *)root, DIGEST_SIZE);
}

/* Not SHA256(): in OpenSSL 3 the one-shot call looks the digest up on every call, which
   measured 0.71 us a changed key (two digests) against 0.17 through SHA256_Init/Update/Final. */
static PyObject *digest_of(const char *data, Py_ssize_t size) {
    uint8_t digest[DIGEST_SIZE];
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, (size_t)size);
    SHA256_Final(digest, &ctx);
    return PyBytes_FromStringAndSize((const char *)digest, DIGEST_SIZE);
}

static PyObject *hashed_changes(PyObject *module, PyObject *changes) {
    (void)module;
    if (!PyDict_Check(changes)) {
        PyErr_SetString(PyExc_TypeError, "changes must be a dict of str to bytes or None");
        return NULL;
    }
    PyObject *hashed = PyDict_New();
    if (hashed == NULL) {
        return NULL;
    }
    Py_ssize_t position = 0;
    PyObject *key;
    PyObject *value;
    while (PyDict_Next(changes, &position, &key, &value)) {
        Py_ssize_t key_size;
        const char *key_data = PyUnicode_Check(key) ? PyUnicode_AsUTF8AndSize(key, &key_size)
                                                    : NULL;
        if (key_data == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "a state key is not str");
            }
            Py_DECREF(hashed);
            return NULL;
        }
        if (value != Py_None && !PyBytes_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "a state value is neither bytes nor None");
            Py_DECREF(hashed);
            return NULL;
        }
        PyObject *path = digest_of(key_data, key_size);
        PyObject *leaf = value == Py_None ? Py_NewRef(Py_None)
                                          : digest_of(PyBytes_AS_STRING(value),
                                                      PyBytes_GET_SIZE(value));
        int failed = path == NULL || leaf == NULL || PyDict_SetItem(hashed, path, leaf) < 0;
        Py_XDECREF(path);
        Py_XDECREF(leaf);
        if (failed) {
            Py_DECREF(hashed);
            return NULL;
        }
    }
    return hashed;
}

static PyMethodDef hashing_methods[] = {
    {"merkle_root", merkle_root, METH_O,
     "The RFC 9162 Merkle Tree Hash of a sequence of bytes (SHA-256() when empty)."},
    {"hashed_changes", hashed_changes, METH_O,
     "{SHA-256(key UTF-8): SHA-256(value) or None} for a dict of str to bytes or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef hashing_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "rantai.crypto._hashing",
    .m_doc = "Hashing loops of the block path in C (see _hashing.c).",
    .m_size = -1,
    .m_methods = hashing_methods,
};

PyMODINIT_FUNC PyInit__hashing(void) { return PyModule_Create(&hashing_module); }
