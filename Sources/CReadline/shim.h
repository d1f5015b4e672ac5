#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <readline/readline.h>
#include <readline/history.h>

/* Readline's globals are shared mutable state to Swift 6's checker; these accessors keep
   every use of them in one place. */
static inline const char *sigbook_rl_library_version(void) { return rl_library_version; }
static inline void sigbook_rl_set_completion(rl_completion_func_t *f) {
  rl_attempted_completion_function = f;
}
static inline void sigbook_rl_set_completion_append_character(int c) {
  rl_completion_append_character = c;
}
static inline void sigbook_rl_set_attempted_completion_over(int v) {
  rl_attempted_completion_over = v;
}
static inline const char *sigbook_rl_line_buffer(void) { return rl_line_buffer; }
static inline int sigbook_rl_point(void) { return rl_point; }
static inline void sigbook_rl_set_basic_word_break_characters(const char *s) {
  rl_basic_word_break_characters = s;
}
static inline void sigbook_rl_set_catch_signals(int v) { rl_catch_signals = v; }
static inline int sigbook_rl_end(void) { return rl_end; }
static inline void sigbook_rl_set_point(int point) { rl_point = point; }
static inline void sigbook_rl_set_filename_completion_desired(int v) {
  rl_filename_completion_desired = v;
}
static inline void sigbook_rl_set_signal_event_hook(rl_hook_func_t *f) { rl_signal_event_hook = f; }

/* The characters at which readline starts the word to complete. In code, words break at
   spaces, brackets and operators but not at `.`, `/` or `~`, so that `.relu` and `net.history`
   are single words; a file name (after `:load`) breaks only at spaces, so that `wt-repl/a+b`
   is one word. Literals, because readline keeps the pointer. */
static inline char *sigbook_rl_word_break_characters(int file_name) {
  return file_name ? (char *)" \t\n\"" : (char *)" \t\n\"\\'`@$><=;|&{([,:)]}+-*#!";
}

static inline void sigbook_rl_set_word_break_hook(rl_cpvfunc_t *f) {
  rl_completion_word_break_hook = f;
}

/* Settings of the REPL that are string constants: readline keeps the pointers, so they are
   literals here rather than Swift strings (whose C pointers do not outlive a call).
   - `sigbook` for `$if sigbook` in ~/.inputrc;
   - the word breaks of code (see above);
   - `"` quotes: inside an open string, the word to complete is the text after the quote. */
static inline void sigbook_rl_configure(void) {
  rl_readline_name = "sigbook";
  rl_basic_word_break_characters = sigbook_rl_word_break_characters(0);
  rl_completer_quote_characters = "\"";
}

/* The file names that start with `text` (readline's own generator), as completion matches. */
static inline char **sigbook_rl_filename_matches(const char *text) {
  return rl_completion_matches(text, rl_filename_completion_function);
}
