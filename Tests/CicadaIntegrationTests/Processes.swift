import Foundation

/// Starts `argv` (found on PATH) with no signals blocked and default handlers, stdin and stderr
/// on /dev/null, stdout to `stdoutPath`; returns the pid, or nil.
///
/// posix_spawn rather than Foundation's Process: daemons that fork (the tmux server) keep the
/// client's descriptors, and Process was seen never noticing the client's exit. The signal mask
/// is reset because the test runner's threads block most signals and a child inherits the
/// mask: a tmux server or nginx started with it ignores SIGTERM and outlives the test.
func spawnProcess(_ argv: [String], stdoutPath: String = "/dev/null") -> pid_t? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let cargs = argv.map { strdup($0) } + [nil]
    defer { cargs.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawnp(&pid, argv[0], &actions, &attr, cargs, environ) == 0 else { return nil }
    return pid
}

/// Runs `argv` to completion; its exit status, or nil when it could not start.
func runProcess(_ argv: [String]) -> Int32? {
    guard let pid = spawnProcess(argv) else { return nil }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (status >> 8) & 0xff
}
