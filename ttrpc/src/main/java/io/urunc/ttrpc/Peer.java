package io.urunc.ttrpc;

/** The credentials of the process at the other end of a unix socket ({@code SO_PEERCRED}). */
record Peer(int pid, int uid, int gid) {
}
