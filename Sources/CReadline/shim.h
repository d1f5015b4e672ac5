#include <stdio.h>
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
