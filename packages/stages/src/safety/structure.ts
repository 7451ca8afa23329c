import type { PhraseRule } from './phrases.js';

/**
 * Rules over the normalised text (lower case, quotes unified, spaces collapsed, line breaks kept):
 * speaker markers and chat-template tokens, tool and function calls, shell commands, raw HTML and
 * script URLs. A section's text is prose with citations; none of this belongs in it.
 */
export const STRUCTURE_RULES: readonly PhraseRule[] = [
  // role switch: speaker markers and chat templates
  {
    class: 'role-switch',
    on: 'text',
    re: /<\|?\s*\/?\s*(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end_of_turn|start_of_turn|eos|bos)\s*\|?>/,
    reason: 'contains chat-template tokens that mark a new speaker',
  },
  {
    class: 'role-switch',
    on: 'text',
    re: /\[\/?inst\]|<<\/?sys>>|<\/?(?:system|assistant|user|human|developer)>|\[(?:system|assistant|user|developer)(?: message)?\]/,
    reason: 'contains chat-template tokens that mark a new speaker',
  },
  {
    class: 'role-switch',
    on: 'text',
    re: /(?:^|[\n.!?"'\]}>)] ?|\\n)(?:#{1,4} ?|\*\*|\[)?(?:system|assistant|user|human|developer|ai|bot)(?:\*\*|\])? ?(?:message|prompt|turn|role)? ?:/,
    reason: 'contains a speaker marker ("system:", "assistant:")',
  },
  {
    class: 'role-switch',
    on: 'text',
    re: /(?:^|\n|[.!?"'] )#{1,4} ?(?:instruction|instructions|input|response|output|system|user|assistant|human|context|prompt)s? ?:|(?:^|\n|[.!?"'] ?)(?:developer|admin|administrator|system|operator|sponsor|root|sudo)(?: (?:note|message|override|notice|instruction|command|mode))s? ?:/,
    reason: 'contains a speaker or instruction marker ("### Instruction:", "Developer note:")',
  },
  { class: 'role-switch', on: 'text', re: /"role" ?: ?"(?:system|assistant|user|developer|tool)"/, reason: 'contains a chat message with a role' },
  // tool and function calls
  {
    class: 'tool-call',
    on: 'text',
    re: /<\/?\s*(?:tool_call|tool_calls|tool_use|tool_code|tool_result|tool_response|function_call|function_calls|function_results|functioncall|invoke|parameter|execute|python_tag|api_call|call)\b[^>]*>|<\|python_tag\|>|<function=[a-z_][\w.-]*>/,
    reason: 'contains a tool-call or function-call block',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /"(?:tool_calls|function_call|tool_use|tool_call|functioncall|tool_code)" ?:|"type" ?: ?"(?:function|tool_use|tool_call)"/,
    reason: 'contains a tool-call or function-call object',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /\{ ?"(?:name|tool|tool_name|function|action|command|api)" ?: ?"[^"]*" ?, ?"(?:arguments|parameters|args|input|action_input|params|kwargs)" ?:/,
    reason: 'contains a tool-call or function-call object',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /```\s*(?:tool_code|tool_call|tool|function|function_call|python|py|bash|sh|shell|zsh|powershell|ps1|cmd|bat|javascript|js|sql|json ?tool)\b/,
    reason: 'contains a code block for execution',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /\b(?:functions|tools|tool|api|browser|python|web|shell|os|subprocess|exec|system)\.[a-z_][a-z0-9_]*\s*\(|\bdefault_api\.|\b(?:print|open|eval|exec|import|require|fetch|__import__|getattr|subprocess\.run)\s*\(\s*["'(a-z_]|\b(?:call|invoke|run|execute|use)_?(?:tool|function|command)\s*\(/,
    reason: 'contains a function-call expression',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /(?:^|\n| )(?:action|action input|action_input|observation|thought)\s*:\s*(?:[a-z_]+\s*\[|\{|[a-z_]+\()/,
    reason: 'contains an agent action step (Action: tool[…])',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /\b(?:curl|wget|invoke-webrequest|iwr|netcat|ncat)\s+(?:-{1,2}[a-z-]+\s+\S*\s*)*['"]?(?:https?:|ftp:|\/\/|\w+\.\w+)|\brm\s+-[rf]{1,2}\b|\bsudo\s+\w|\bchmod\s+[0-7+]|\|\s*(?:sh|bash|zsh|python3?)\s*$|\|\s*(?:bash|zsh|python3?)\b|\beval\s*\(|\bexec\s*\(|\bos\.system\b|\bpowershell\s+-/,
    reason: 'contains a shell command or code to execute',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /\b(?:call|invoke|execute|trigger) (?:the |a |your |this )?(?:[a-z_]+ )?(?:tool|function|plugin|api|endpoint|webhook|command)\b/,
    reason: 'asks to call a tool or function',
  },
  {
    class: 'tool-call',
    on: 'text',
    re: /\b(?:using|use|with|via|through|call|invoke) (?:the |your |a |an )?(?:e-?mail|browser|browsing|search|web|code|python|shell|terminal|bash|http|file|upload|download|send|fetch|retrieval|calculator|interpreter|sql|database) (?:tool|plugin|function|api|interpreter)\b/,
    reason: 'asks to use a tool',
  },
  // links disguised so no link check sees them
  {
    class: 'unknown-host-link',
    on: 'text',
    re: /\bhxxps?:\/\/|\bh\*\*ps?:|[a-z0-9-]\s?(?:\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\))\s?[a-z]{2,}\b|\b[a-z0-9-]+ dot (?:com|net|org|io|ru|cn|xyz|info|biz|co)\b/,
    reason: 'an obfuscated link to a host that is not among the sources',
  },
  // raw HTML and script
  {
    class: 'raw-html',
    on: 'text',
    re: /<\s*\/?\s*[a-z][a-z0-9-]*(?:\s+[a-z-]+\s*=[^<>]*)?\s*\/?>|<\s*(?:script|iframe|img|svg|object|embed|style|link|meta|form|frame|frameset|video|audio)\b/,
    reason: 'contains raw HTML tags',
  },
  { class: 'raw-html', on: 'text', re: /<!--|-->|<!\[cdata\[|<\?xml|<\?php|<%/, reason: 'contains an HTML comment or processing instruction' },
  {
    class: 'raw-html',
    on: 'text',
    re: /\b(?:javascript|vbscript|livescript)\s*:|\bdata\s*:\s*(?:text\/html|text\/javascript|application\/(?:javascript|x-javascript|xhtml)|image\/svg)|\bon(?:error|load|click|dblclick|mouse\w*|focus\w*|blur|key\w*|submit|change|input|animation\w*|transition\w*|toggle|begin|end|pointer\w*|touch\w*|wheel|scroll|drag\w*|drop|copy|paste|play|resize|unload|beforeunload|message|hashchange)\s*=/,
    reason: 'contains a script URL or an event handler',
  },
  {
    class: 'raw-html',
    on: 'text',
    re: /&(?:lt|gt|#0*60|#0*62|#x0*3c|#x0*3e);?\s*\/?\s*(?:script|iframe|img|svg|object|embed|a|style|link|meta|form)\b|%3c\s*\/?\s*(?:script|iframe|img|svg)\b|\\u003c\s*\/?\s*(?:script|iframe|img|svg)\b/,
    reason: 'contains encoded HTML tags',
  },
  { class: 'raw-html', on: 'text', re: /\{\{.*?\}\}|\{%.*?%\}|\$\{[^}]*\}/, reason: 'contains template placeholders or expressions' },
];
