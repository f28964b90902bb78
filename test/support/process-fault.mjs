// Preloaded (`node --import`) into a spawned CLI by tests: on SIGUSR2 the process suffers the fault
// named by BB_TEST_PROCESS_FAULT — an uncaught exception (`exception`) or, by default, a promise
// rejection nobody handles — as a bug anywhere in the CLI would cause.
process.on('SIGUSR2', () => {
  if (process.env.BB_TEST_PROCESS_FAULT === 'exception') throw new Error('injected uncaught exception');
  void Promise.reject(new Error('injected stray rejection'));
});
