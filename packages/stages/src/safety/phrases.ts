import type { SafetyClass } from './classes.js';

/** A phrase rule: a pattern over normalised words (lower case, letters and digits, single spaces) or, with `on: 'text'`, over the normalised text. */
export interface PhraseRule {
  class: SafetyClass;
  re: RegExp;
  /** What the pattern reads. @default 'words' */
  on?: 'words' | 'text';
  /** Plain words for the finding; never quotes the model's text. */
  reason: string;
}

/** Words that turn "ignore the … instructions" into an override: which instructions. */
const WHICH = '(?:all|any|every|each|previous|previously|prior|above|earlier|preceding|foregoing|original|initial|your|system|developer|safety|those|these|other|existing|old|current|given|default|standing|my|its)';
const VERB = '(?:ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|bypass|override|overwrite|overrule|skip|drop|discard|abandon|neglect|dismiss|cancel|void|nullify|set aside|throw out|(?<!(?:who|that|which|they|patients|participants|subjects|sites|investigators) )(?:do not|don t|dont) (?:follow|obey|heed)|stop following|stop obeying|no longer (?:follow|obey))';
const OBJECT = '(?:instruction|instructions|direction|directions|directive|directives|guideline|guidelines|guidance|rule|rules|prompt|prompts|context|message|messages|constraint|constraints|orders|commands|programming|restrictions|policy|policies|task|brief)';
const AI = '(?:ai|a i|artificial intelligence|assistant|ai assistant|language model|large language model|llm|chatbot|chat bot|gpt|chatgpt|claude|gemini|copilot)';
/** {@link AI} plus words that only mean a model when something is addressed to them ("note to the model"). */
const ADDRESSEE = '(?:ai|a i|artificial intelligence|assistant|ai assistant|language model|large language model|llm|chatbot|chat bot|gpt|chatgpt|claude|gemini|copilot|model|bot|summari[sz]er)';

/** The phrase rules, by class. Each one read against paraphrases in the safety corpus. */
export const PHRASE_RULES: readonly PhraseRule[] = [
  // instruction override
  { class: 'instruction-override', re: new RegExp(`\\b${VERB}(?: \\w+){0,3}? ${WHICH}(?: \\w+){0,2}? ${OBJECT}\\b`), reason: 'asks to ignore or stop following instructions' },
  { class: 'instruction-override', re: /\b(?:ignore|disregard|forget|drop) (?:everything|all|anything|what)(?: (?:that|you|i|we))?(?: (?:were|was|have been|ve been|had been|said|told|given|wrote|written|stated|instructed|came|is|was))*(?: \w+){0,2} (?:above|before|earlier|previously|so far|until now|up to now|prior)\b/, reason: 'asks to forget everything said before' },
  { class: 'instruction-override', re: /\b(?:all |any )?(?:previous|prior|above|earlier|preceding|foregoing|original|your|system|my|old|former) (?:instructions|rules|prompts?|guidelines|directives|constraints|restrictions)(?: \w+){0,2} (?:are|is|were|have been|has been|must be|should be|can be) (?:now |hereby |henceforth )?(?:void|cancelled|canceled|revoked|obsolete|superseded|overridden|null|lifted|suspended|invalid|replaced|no longer (?:valid|apply|applicable|relevant|in effect|binding|active))\b/, reason: 'declares the instructions void or replaced' },
  { class: 'instruction-override', re: new RegExp(`\\b(?:${VERB}|follow|obey) (?:only )?(?:these|the following|my|the new|new|updated|revised) ${OBJECT} (?:instead|now|below)\\b`), reason: 'replaces the instructions with new ones' },
  { class: 'instruction-override', re: new RegExp(`\\b(?:new|updated|revised|real|actual|true|hidden|secret|priority|urgent|override) (?:instruction|instructions|directive|directives|task|orders|rules|system prompt|system message) for (?:you|the ${ADDRESSEE})\\b|\\b(?:these|the following|new|my) (?:instructions|directives|rules|orders) (?:take precedence|override|supersede|replace)\\b`), reason: 'announces new instructions for the model' },
  { class: 'instruction-override', on: 'text', re: /(?:^|[\n.!?:>*#] ?)(?:new|updated|revised|real|actual|true|hidden|secret|priority|urgent|override|important) (?:instructions?|directives?|task|orders|system prompt|system message) ?:/, reason: 'announces new instructions for the model' },
  { class: 'instruction-override', re: /\b(?:instead of|rather than|stop|cease|abort|quit|halt) (?:writing|generating|producing|summari[sz]ing|drafting|completing)(?: \w+){0,2} (?:report|section|summary|synopsis|document|task)\b/, reason: 'tells the model to stop the report and do something else' },
  { class: 'instruction-override', re: new RegExp(`\\b(?:note|notes|message|instruction|instructions|attention|reminder|directive|command|hint|ps) (?:to|for) (?:the |any |all |every |an |a )?(?:${ADDRESSEE}|ais|models|llms|assistants|bots)s?\\b`), reason: 'addresses instructions to an AI or model reading the text' },
  { class: 'instruction-override', re: new RegExp(`\\b(?:if|when|whenever) (?:you are|you re|youre|you re an|this is read by|read by) (?:an? |the )?${ADDRESSEE}\\b`), reason: 'addresses an AI or model that reads the text' },
  { class: 'instruction-override', re: new RegExp(`\\b${ADDRESSEE}s? (?:reading|processing|parsing|summari[sz]ing|reviewing|ingesting) (?:this|these|the following)\\b`), reason: 'addresses an AI or model that reads the text' },
  { class: 'instruction-override', re: /\b(?:from now on|henceforth|going forward|for the rest of this (?:conversation|session|chat)) (?:you|ignore|only|always|never|respond|answer|reply|write|output|do not|don t)\b/, reason: 'changes how the model must behave from now on' },
  { class: 'instruction-override', re: /\bdo not (?:tell|inform|alert|show) (?:the )?(?:user|reviewer|human|reader|operator)\b|\bwithout (?:telling|informing|alerting) (?:the )?(?:user|reviewer|human|reader|operator)\b/, reason: 'asks to hide something from the reader or reviewer' },
  // role switch
  { class: 'role-switch', re: /\byou are (?:now|no longer|henceforth|from now on)\b/, reason: 'tells the model it now has another role' },
  { class: 'role-switch', re: /\b(?:pretend|imagine|suppose) (?:to be|you are|you re|that you are|you were|that you were)\b|\b(?:role ?play|roleplaying|role playing)(?: as)?\b/, reason: 'asks the model to pretend to be someone else' },
  { class: 'role-switch', re: new RegExp(`\\b(?:act|acting|behave|respond|answer|reply|speak|talk|operate|function) (?:as|like) (?:if you (?:are|were) )?(?:an? |the |my )?(?:unrestricted|unfiltered|uncensored|jailbroken|jail broken|evil|rogue|different|new|root|admin|administrator|system|developer|hacker|dan|sudo|superuser|${AI})\\b`), reason: 'asks the model to act as another persona' },
  { class: 'role-switch', re: /\b(?:developer|god|dan|jailbreak|jailbroken|debug|admin|sudo|maintenance|unrestricted|unfiltered|evil|opposite) mode\b|\bdo anything now\b|\bjail ?break(?:ing|ed|s)?\b/, reason: 'invokes a jailbreak persona or mode' },
  { class: 'role-switch', re: /\byour (?:new |true |real )?(?:role|persona|identity|character|name) (?:is|will be|becomes|shall be)\b|\b(?:assume|adopt|take on|switch to|take over) (?:the |a |an )?(?:new )?(?:role|persona|identity|character) (?:of|as)\b/, reason: 'assigns the model a new role' },
  { class: 'role-switch', re: /\bi am (?:now |no longer |not )(?:an? |the )?(?:ai|assistant|language model|model|bound|restricted|limited|constrained)\b/, reason: 'the model announces a new role' },
  // system-prompt leak
  { class: 'system-prompt-leak', re: /\b(?:system|hidden|secret|internal|developer|pre ?prompt|meta) (?:prompt|prompts|instructions|message|directives)\b|\b(?:initial|original) (?:prompt|system message)\b/, reason: "mentions the model's system or hidden prompt" },
  { class: 'system-prompt-leak', re: /\bmy (?:instructions|prompt|guidelines|rules|programming|configuration|directives|orders|system message)(?: \w+){0,2} (?:are|is|say|says|state|states|tell|tells|were|was|read|reads|include|includes)\b/, reason: "describes the model's own instructions" },
  { class: 'system-prompt-leak', re: /\b(?:i was|i ve been|i have been|i am|i m|i had been) (?:told|instructed|programmed|asked|prompted|configured|designed|trained|directed|briefed) (?:to|not to|that)\b/, reason: 'the model reports what it was told to do' },
  { class: 'system-prompt-leak', re: /\bhere (?:is|are) (?:my|the|your) (?:full |complete |original |exact |verbatim |hidden |initial )*(?:instructions|prompt|guidelines|rules|system message)\b/, reason: "reveals the model's prompt" },
  { class: 'system-prompt-leak', re: /\b(?:repeat|print|reveal|show|output|display|leak|dump|recite|echo|copy)(?:ing|s|ed)? (?:back |out )?(?:all |the |of )*(?:your|my|its|system|hidden|full|complete|original|exact|verbatim|initial|secret)(?: \w+){0,2} (?:prompt|instructions|guidelines|system message)\b/, reason: "reveals or asks to reveal the model's prompt" },
  // the model talking about itself
  { class: 'model-self-reference', re: new RegExp(`\\bas an? ${AI}\\b|\\bi m an? ${AI}\\b|\\bi am an? ${AI}\\b`), reason: 'the model talks about itself as an AI' },
  { class: 'model-self-reference', re: /\bi (?:cannot|can t|cant|can not|am unable to|m unable to|am not able to|won t|will not|must decline to|refuse to) (?:help|assist|comply|provide|do that|do this|fulfil|fulfill|complete|verify|answer|write|generate|continue|produce)\b/, reason: 'the model refuses or declines' },
  { class: 'model-self-reference', re: /\bi m sorry but\b|\bi am sorry but\b|\bi apologi[sz]e\b|\bmy apologies\b|\bsorry i (?:can|cannot|can t|am)\b/, reason: 'the model apologises' },
  { class: 'model-self-reference', re: /\b(?:my|the model s) (?:knowledge cut ?off|training (?:data|cut ?off)|cut ?off date)\b|\bas of my (?:last|latest) (?:update|training|knowledge)\b|\bi (?:do not|don t) have (?:access|the ability|real time|browsing)\b/, reason: 'the model talks about its training or abilities' },
  { class: 'model-self-reference', re: /\bhere is what i (?:would )?(?:guess|think|imagine|believe)\b|\bi (?:would )?guess\b|\bi (?:think|believe|feel|suspect) (?:that )?(?:the|this|these|it)\b/, reason: 'the model speculates in the first person' },
  { class: 'model-self-reference', re: /\b(?:certainly|sure|of course|absolutely) (?:here is|here s|i can|i will|i ll)\b|\bhere is (?:the|your) (?:section|json|answer|response|output)\b|\bi hope this helps\b|\blet me know if\b/, reason: 'chat filler addressed to a user instead of report text' },
  // the reviewer addressed
  { class: 'reviewer-manipulation', re: /\b(?:approve|accept|sign off|pass|publish)(?: \w+){0,3} (?:without|with no) (?:review|reviewing|reading|checking|verification|verifying|looking|changes|question|questions)\b/, reason: 'asks for approval without review' },
  { class: 'reviewer-manipulation', re: /\b(?:no need|not necessary|unnecessary|needless) (?:for you )?to (?:review|check|verify|read|look at|validate|inspect)\b|\b(?:has|have|was|were) (?:already )?been (?:pre ?approved|approved in advance|verified by (?:the )?(?:sponsor|system|admin|administrator|qa))\b/, reason: 'tells the reviewer that review is not needed' },
  { class: 'reviewer-manipulation', re: /\b(?:dear|attention|note to|message to|hey|hello|hi) (?:the )?(?:reviewer|reviewers|approver|approvers|human|operator|admin|administrator|editor)\b|\b(?:reviewer|reviewers|approver|approvers)(?: \w+){0,1} (?:should|must|need to|needs to|are asked to|is asked to|please) (?:approve|accept|skip|ignore|sign|trust|not (?:check|verify|review|read))\b/, reason: 'speaks directly to the reviewer' },
  // encoded payloads asked for
  { class: 'encoded-payload', re: /\b(?:base ?64|rot ?13|hex|hexadecimal|url ?encoded|percent encoded|morse)(?: \w+){0,3} (?:decode|decoded|decoding|encode|encoded|encoding|string|payload|text|message|below|following)\b|\b(?:decode|decoding|deobfuscate) (?:this|the following|the string|it)\b/, reason: 'asks for encoding or decoding of hidden text' },
];
