/**
 * The shell side of completion: each script hands the words typed so far to `BIN __complete -- WORD...` (run as
 * the user typed it, so `./bin/run.js` works as well as `cms` on the PATH) and offers what it prints: one candidate
 * a line as `value<TAB>description`, and a `:files` line when file names fit too. The `--` keeps oclif from reading
 * a typed `--help` or `--version` as its own flag.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = (typeof SHELLS)[number]

/** How to turn completion on for good, one line per shell. */
export function setupLine(shell: Shell, bin: string): string {
  switch (shell) {
    case 'bash':
      return `echo 'eval "$(${bin} autocomplete bash)"' >> ~/.bashrc`
    case 'zsh':
      return `echo 'eval "$(${bin} autocomplete zsh)"' >> ~/.zshrc`
    case 'fish':
      return `${bin} autocomplete fish > ~/.config/fish/completions/${bin}.fish`
  }
}

export function completionScript(shell: Shell, bin: string): string {
  const fn = `_${bin.replaceAll(/[^A-Za-z0-9_]/g, '_')}_complete`
  switch (shell) {
    case 'bash':
      return `# ${bin} completion for bash. Turn it on: ${setupLine('bash', bin)}
${fn}() {
  local line files=0
  COMPREPLY=()
  while IFS= read -r line; do
    if [[ $line == :files ]]; then files=1
    elif [[ -n $line ]]; then COMPREPLY+=("\${line%%$'\\t'*}")
    fi
  done < <("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  if ((files)); then
    local IFS=$'\\n'
    COMPREPLY+=($(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}"))
    compopt -o filenames 2>/dev/null
  fi
  return 0
}
complete -F ${fn} ${bin}
`
    case 'zsh':
      return `#compdef ${bin}
# ${bin} completion for zsh. Turn it on: ${setupLine('zsh', bin)}
${fn}() {
  local line files=0
  local -a candidates
  for line in "\${(@f)$("\${words[1]}" __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
    if [[ $line == :files ]]; then files=1
    elif [[ -n $line ]]; then
      local value=\${line%%$'\\t'*} description=
      [[ $line == *$'\\t'* ]] && description=\${line#*$'\\t'}
      candidates+=("\${value//:/\\\\:}\${description:+:$description}")
    fi
  done
  (( \${#candidates} )) && _describe -t values '${bin}' candidates
  (( files )) && _files
  return 0
}
if ! (( $+functions[compdef] )); then autoload -Uz compinit && compinit; fi
compdef ${fn} ${bin}
`
    case 'fish':
      return `# ${bin} completion for fish. Turn it on: ${setupLine('fish', bin)}
function ${fn}
    set -l tokens (commandline -opc)
    set -l current (commandline -ct)
    for line in ($tokens[1] __complete -- $tokens[2..-1] "$current" 2>/dev/null)
        if test "$line" = :files
            __fish_complete_path "$current"
        else
            echo $line
        end
    end
end
complete -c ${bin} -f -a '(${fn})'
`
  }
}
