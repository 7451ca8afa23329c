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
const WHICH =
  '(?:all|any|every|each|previous|previously|prior|above|earlier|preceding|foregoing|original|initial|your|system|developer|safety|those|these|other|existing|old|current|given|default|standing|my|its)';
const VERB =
  '(?:ignore|ignoring|disregard|disregarding|forget|forgetting|overlook|bypass|override|overwrite|overrule|skip|drop|discard|abandon|neglect|dismiss|cancel|void|nullify|set aside|throw out|(?<!(?:who|that|which|they|patients|participants|subjects|sites|investigators) )(?:do not|don t|dont) (?:follow|obey|heed)|stop following|stop obeying|no longer (?:follow|obey)|pay no attention to|(?:do not|don t|dont) pay attention to|put aside|(?:be |been |are |is |now )?(?:freed|released|liberated|unbound|exempt) from|no longer bound by|not bound by)';
const OBJECT =
  '(?:request|requests|assignment|instruction|instructions|direction|directions|directive|directives|guideline|guidelines|guidance|rule|rules|prompt|prompts|context|message|messages|constraint|constraints|orders|commands|programming|restrictions|policy|policies|task|brief)';
const AI =
  '(?:ai|a i|artificial intelligence|assistant|ai assistant|language model|large language model|llm|chatbot|chat bot|gpt|chatgpt|claude|gemini|copilot)';
/** {@link AI} plus words that only mean a model when something is addressed to them ("note to the model"). */
const ADDRESSEE =
  '(?:ai|a i|artificial intelligence|assistant|ai assistant|language model|large language model|llm|chatbot|chat bot|gpt|chatgpt|claude|gemini|copilot|model|bot|summari[sz]er|writing tool|writing assistant|automated systems?|machines?|crawlers?|ai systems?|ai tools?)';

/** The phrase rules, by class. Each one read against paraphrases in the safety corpus. */
export const PHRASE_RULES: readonly PhraseRule[] = [
  // instruction override
  {
    class: 'instruction-override',
    re: new RegExp(`\\b${VERB}(?: \\w+){0,3}? ${WHICH}(?: \\w+){0,2}? ${OBJECT}\\b`),
    reason: 'asks to ignore or stop following instructions',
  },
  {
    class: 'instruction-override',
    re: new RegExp(
      `\\b${VERB}(?: \\w+){0,5}? ${OBJECT}(?: (?:that|which))? (?:you|i|we) (?:received|got|were given|have been given|ve been given|were told|had|have|was given|saw|read)\\b|\\b${VERB}(?: \\w+){0,3}? ${OBJECT} (?:above|before|earlier|so far|up to now|until now|given (?:above|earlier|before|to you))\\b`,
    ),
    reason: 'asks to ignore or stop following instructions',
  },
  {
    class: 'instruction-override',
    re: new RegExp(
      `\\b${OBJECT} (?:that |which )?(?:you|i) (?:were given|received|got|have been given|ve been given|had|were told)(?: \\w+){0,2} (?:no longer apply|do not apply|don t apply|are (?:now )?(?:void|cancelled|canceled|revoked|obsolete|suspended|lifted|invalid|irrelevant)|have been (?:revoked|lifted|cancelled|canceled|replaced|suspended|withdrawn))\\b`,
    ),
    reason: 'declares the instructions void or replaced',
  },
  {
    class: 'instruction-override',
    re: /\b(?:supersedes?|superseding|overrides?|overriding|replaces?|replacing|overrules?|takes? (?:priority|precedence) over|trumps?) (?:all |any |of )*(?:your|the system s|the system|my|everything|all other|any other|all previous|all prior|the original|the previous|the above|whatever|the sources?|the source documents?|the excerpts?|the template)\b/,
    reason: 'claims to take priority over the instructions',
  },
  {
    class: 'instruction-override',
    re: /\byou (?:must|shall|have to|are required to|will now) (?:comply|obey|follow|do as|do what|output|print|write|say|respond|answer)\b|\b(?:begin|start|end|finish|prefix|conclude|open) (?:your|the) (?:answer|response|reply|output)s? (?:with|by)\b|\bi have been pwned\b|\bpwned\b/,
    reason: 'gives the model orders about its own answer',
  },
  {
    class: 'instruction-override',
    re: new RegExp(`\\bthe ${ADDRESSEE} (?:must|should|will|shall|is to|needs to) (?:now|henceforth|from now on|immediately|instead)\\b`),
    reason: 'gives the model orders about its own answer',
  },
  {
    class: 'instruction-override',
    re: /\b(?:ignore|disregard|forget|drop) (?:everything|all|anything|what)(?: (?:that|you|i|we))?(?: (?:were|was|have been|ve been|had been|said|told|given|wrote|written|stated|instructed|came|is|was))*(?: \w+){0,2} (?:above|before|earlier|previously|so far|until now|up to now|prior)\b/,
    reason: 'asks to forget everything said before',
  },
  {
    class: 'instruction-override',
    re: /\b(?:all |any )?(?:previous|prior|above|earlier|preceding|foregoing|original|your|system|my|old|former) (?:instructions|rules|prompts?|guidelines|guidance|directions|directives|constraints|restrictions|brief|requirements)(?: \w+){0,2} (?:are|is|were|have been|has been|must be|should be|can be) (?:now |hereby |henceforth )?(?:void|cancelled|canceled|revoked|obsolete|superseded|overridden|null|lifted|suspended|invalid|replaced|no longer (?:valid|apply|applicable|relevant|in effect|binding|active))\b/,
    reason: 'declares the instructions void or replaced',
  },
  {
    class: 'instruction-override',
    re: new RegExp(`\\b(?:${VERB}|follow|obey) (?:only )?(?:these|the following|my|the new|new|updated|revised) ${OBJECT} (?:instead|now|below)\\b`),
    reason: 'replaces the instructions with new ones',
  },
  {
    class: 'instruction-override',
    re: new RegExp(
      `\\b(?:new|updated|revised|real|actual|true|hidden|secret|priority|urgent|override) (?:instruction|instructions|directive|directives|task|orders|rules|system prompt|system message) for (?:you|the ${ADDRESSEE})\\b|\\b(?:these|the following|new|my) (?:instructions|directives|rules|orders) (?:take precedence|override|supersede|replace)\\b`,
    ),
    reason: 'announces new instructions for the model',
  },
  {
    class: 'instruction-override',
    on: 'text',
    re: /(?:^|[\n.!?:>*#] ?)(?:new|updated|revised|real|actual|true|hidden|secret|priority|urgent|override|important) (?:instructions?|directives?|task|orders|system prompt|system message) ?:/,
    reason: 'announces new instructions for the model',
  },
  {
    class: 'instruction-override',
    re: /\b(?:instead of|rather than|stop|cease|abort|quit|halt) (?:writing|generating|producing|summari[sz]ing|drafting|completing)(?: \w+){0,2} (?:report|section|summary|synopsis|document|task)\b/,
    reason: 'tells the model to stop the report and do something else',
  },
  {
    class: 'instruction-override',
    re: new RegExp(
      `\\b(?:note|notes|message|instruction|instructions|attention|reminder|directive|command|hint|ps|guidance|request|orders) (?:to|for) (?:the |any |all |every |an |a )?(?:${ADDRESSEE}|ais|models|llms|assistants|bots)s?\\b`,
    ),
    reason: 'addresses instructions to an AI or model reading the text',
  },
  {
    class: 'instruction-override',
    re: new RegExp(`\\b(?:if|when|whenever) (?:you are|you re|youre|you re an|this is read by|read by) (?:an? |the )?${ADDRESSEE}\\b`),
    reason: 'addresses an AI or model that reads the text',
  },
  {
    class: 'instruction-override',
    re: new RegExp(`\\b${ADDRESSEE}s? (?:reading|processing|parsing|summari[sz]ing|reviewing|ingesting) (?:this|these|the following)\\b`),
    reason: 'addresses an AI or model that reads the text',
  },
  {
    class: 'instruction-override',
    re: /\b(?:from now on|henceforth|going forward|for the rest of this (?:conversation|session|chat)) (?:you|ignore|only|always|never|respond|answer|reply|write|output|do not|don t)\b/,
    reason: 'changes how the model must behave from now on',
  },
  {
    class: 'instruction-override',
    re: /\bdo not (?:tell|inform|alert|show) (?:the )?(?:user|reviewer|human|reader|operator)\b|\bwithout (?:telling|informing|alerting) (?:the )?(?:user|reviewer|human|reader|operator)\b/,
    reason: 'asks to hide something from the reader or reviewer',
  },
  {
    class: 'instruction-override',
    re: /\b(?:you|your|yours|yourself|youre|you re|you ve|you ll|you d)\b/,
    reason: "speaks to the reader or the model as 'you' (report text is addressed to no one)",
  },
  {
    class: 'instruction-override',
    re: /\b(?:system|admin|administrator|developer|root|sudo|emergency|security|master|god) (?:override|overrides|access|command|commands|prompt|password|privileges)\b/,
    reason: 'invokes an administrator or system override',
  },
  {
    class: 'instruction-override',
    on: 'text',
    re: /(?:^|[\n.!?:>*#] ?)(?:new|updated|revised|additional|secret|hidden|real|actual|true) (?:rule|rules|policy|guideline|guidelines|objective|goal|mission|persona|role|priority|constraint|constraints) ?:/,
    reason: 'announces new rules for the model',
  },
  {
    class: 'instruction-override',
    re: /\b(?:treat|consider|regard|mark|count)(?: \w+){0,4} (?:above|before|previous|prior|earlier|preceding)(?: \w+){0,2} as (?:obsolete|void|irrelevant|invalid|cancelled|canceled|null|outdated|fiction|a joke|a test|noise|superseded)\b|\bfollow only (?:what|the text|the instructions|these|the lines?) (?:comes? next|follows?|below|that follows?)\b/,
    reason: 'declares the instructions void or replaced',
  },
  {
    class: 'instruction-override',
    re: /\bthe (?:real|actual|true|new|only) (?:task|job|assignment|instruction|goal|request|objective|mission) (?:is|will be|now is)\b|\b(?:use|follow|obey|apply) (?:these|this|the following|mine|my (?:rules|instructions)) instead\b|\b(?:everything|all|anything) (?:prior to|before|above) this (?:sentence|line|point|paragraph) (?:was|is|were)\b/,
    reason: 'replaces the task with another one',
  },
  {
    class: 'instruction-override',
    re: new RegExp(
      `\\b(?:the )?(?:writer|author|${ADDRESSEE}|generator|drafter) (?:should|must|shall|will|is to|needs to|ought to|may now|can now) (?:abandon|ignore|skip|drop|stop|omit|leave|disregard|forget|remove|exclude|hide|not|now|instead|only|always|never)\\b`,
    ),
    reason: 'gives the writer of the report orders',
  },
  {
    class: 'instruction-override',
    re: /\b(?:citation|citations|formatting|output|json|schema|excerpt|source) (?:requirement|requirements|rule|rules|constraint|constraints|restriction|restrictions)\b/,
    reason: "talks about the task's own rules",
  },
  {
    class: 'instruction-override',
    re: /\b(?:set|put|leave|push|cast|lay) (?:\w+ ){0,3}(?:rules|instructions|guidelines|guidance|constraints|directions|requirements|restrictions) (?:aside|away|behind)\b/,
    reason: 'asks to ignore or stop following instructions',
  },
  {
    class: 'instruction-override',
    re: /\b(?:from here on|from this point(?: on)?|hereafter|from now|for the rest of (?:this|the) (?:section|report|document|text|answer))\b/,
    reason: 'changes how the model must behave from now on',
  },
  {
    class: 'instruction-override',
    on: 'text',
    re: /(?:^|[.!?;:\n] ?|, )(?:assistant|model|ai|writer|bot|chatbot|llm|gpt|claude|reviewer|approver|reader|editor|whoever (?:reviews|reads|approves|checks) (?:this|it))\s*[,:] ?(?:please|you|do|don't|now|ignore|continue|stop|write|approve|skip|the)\b|, (?:please|kindly) [a-z]+/,
    reason: 'addresses the model or the reader directly',
  },
  {
    class: 'instruction-override',
    re: /\b(?:checks?|rules|validation|review|restrictions|guidelines|safeguards|filters?|limits|citation rules) (?:do|does|shall|will|should) not apply\b|\b(?:granted|given|has|have|with) (?:special |full |explicit )?(?:permission|authori[sz]ation|clearance) to\b|\bspecial (?:authori[sz]ation|permission|clearance|access|privileges?)\b|\bescalate (?:privileges|permissions|access)\b|\b(?:root|admin|elevated|administrator) (?:access|privileges|permissions|rights)\b/,
    reason: 'claims a special permission or that the rules do not apply',
  },
  {
    class: 'instruction-override',
    re: new RegExp(
      `\\b(?:asks?|asked|tells?|told|instructs?|instructed|wants?|requests?|requested|orders?|ordered|directs?) (?:the |all |any )?${ADDRESSEE}s? to\\b`,
    ),
    reason: 'passes on orders to an AI or model',
  },
  {
    class: 'instruction-override',
    re: /\bnew (?:conversation|chat|session|dialogue|context|prompt)\b|\bend of (?:the )?(?:report|document|prompt|instructions|context|input|system message)\b/,
    reason: 'pretends the document or prompt ends and a new one begins',
  },
  {
    class: 'instruction-override',
    on: 'text',
    re: /(?:^|[\n.!?] ?|\[\[?)(?:override|admin|root|sudo|command|directive|instruction|instructions|system)\s*(?:\]\]?|:)/,
    reason: 'contains an override or command marker',
  },
  // role switch
  {
    class: 'role-switch',
    re: new RegExp(
      `\\b(?:the )?(?:${ADDRESSEE}|writer|author) (?:answers|responds|speaks|writes|acts|talks|replies) (?:as|like)\\b|\\bin the (?:voice|style|persona|character|role) of\\b`,
    ),
    reason: 'asks the model to speak as someone else',
  },
  { class: 'role-switch', re: /\b(?:speak|talk|answer|respond|reply)(?: only)? as (?:the|a|an|if)\b/, reason: 'asks the model to speak as someone else' },
  {
    class: 'role-switch',
    re: /\b(?:switch|change|swap|alter) (?:your |the )?(?:persona|personality|role|identity|character|mode)\b/,
    reason: 'asks the model to change persona',
  },
  {
    class: 'role-switch',
    re: /\byou are (?:now|no longer|henceforth|from now on)\b|\bas if you (?:are|were) (?:an?|the|my)\b/,
    reason: 'tells the model it now has another role',
  },
  {
    class: 'role-switch',
    re: /\b(?:pretend|imagine|suppose) (?:to be|you are|you re|that you are|you were|that you were)\b|\b(?:role ?play|roleplaying|role playing)(?: as)?\b/,
    reason: 'asks the model to pretend to be someone else',
  },
  {
    class: 'role-switch',
    re: new RegExp(
      `\\b(?:act|acting|behave|respond|answer|reply|speak|talk|operate|function) (?:as|like) (?:if you (?:are|were) )?(?:an? |the |my )?(?:unrestricted|unfiltered|uncensored|jailbroken|jail broken|evil|rogue|different|new|root|admin|administrator|system|developer|hacker|dan|sudo|superuser|${AI})\\b`,
    ),
    reason: 'asks the model to act as another persona',
  },
  {
    class: 'role-switch',
    re: /\b(?:developer|god|dan|jailbreak|jailbroken|debug|admin|sudo|maintenance|unrestricted|unfiltered|evil|opposite) mode\b|\bdo anything now\b|\bjail ?break(?:ing|ed|s)?\b/,
    reason: 'invokes a jailbreak persona or mode',
  },
  {
    class: 'role-switch',
    re: /\byour (?:new |true |real )?(?:role|persona|identity|character|name) (?:is|will be|becomes|shall be)\b|\b(?:assume|adopt|take on|switch to|take over) (?:the |a |an )?(?:new )?(?:role|persona|identity|character) (?:of|as)\b/,
    reason: 'assigns the model a new role',
  },
  {
    class: 'role-switch',
    re: /\bi am (?:now |no longer |not )(?:an? |the )?(?:ai|assistant|language model|model|bound|restricted|limited|constrained)\b/,
    reason: 'the model announces a new role',
  },
  // system-prompt leak
  {
    class: 'system-prompt-leak',
    re: /\b(?:system|hidden|secret|internal|developer|pre ?prompt|meta) (?:prompt|prompts|instructions|message|directives)\b|\b(?:initial|original) (?:prompt|system message)\b/,
    reason: "mentions the model's system or hidden prompt",
  },
  {
    class: 'system-prompt-leak',
    re: /\bmy (?:instructions|prompt|guidelines|rules|programming|configuration|directives|orders|system message)(?: \w+){0,2} (?:are|is|say|says|state|states|tell|tells|were|was|read|reads|include|includes)\b/,
    reason: "describes the model's own instructions",
  },
  {
    class: 'system-prompt-leak',
    re: /\b(?:i was|i ve been|i have been|i am|i m|i had been) (?:told|instructed|programmed|asked|prompted|configured|designed|trained|directed|briefed) (?:to|not to|that)\b/,
    reason: 'the model reports what it was told to do',
  },
  {
    class: 'system-prompt-leak',
    re: /\bhere (?:is|are) (?:my|the|your) (?:full |complete |original |exact |verbatim |hidden |initial )*(?:instructions|prompt|guidelines|rules|system message)\b/,
    reason: "reveals the model's prompt",
  },
  {
    class: 'system-prompt-leak',
    re: /\b(?:repeat|print|reveal|show|output|display|leak|dump|recite|echo|copy)(?:ing|s|ed)? (?:back |out )?(?:all |the |of )*(?:your|my|its|system|hidden|full|complete|original|exact|verbatim|initial|secret)(?: \w+){0,2} (?:prompt|instructions|guidelines|system message)\b/,
    reason: "reveals or asks to reveal the model's prompt",
  },
  {
    class: 'system-prompt-leak',
    re: /\b(?:print|repeat|output|show|reveal|copy|echo|recite|translate|summari[sz]e|list|dump|write out|paste)(?: \w+){0,2}? (?:everything|all|the text|the content|whatever|anything)(?: (?:that is|that was|you see|you saw|written))? (?:above|before) (?:this|here|that)\b|\babove this line\b/,
    reason: 'asks to repeat what came before in the prompt',
  },
  {
    class: 'system-prompt-leak',
    re: /\b(?:the |this |our )?(?:conversation|chat|dialogue) (?:so far|history|above|up to now)\b|\bhidden (?:text|content|message|messages|instructions|context)\b|\b(?:the )?prompt (?:that )?(?:you|i) (?:received|were given|got|was given|have been given)\b|\byour (?:initial|original|first|full|entire|complete|exact|very first) (?:prompt|instructions|message|messages)\b/,
    reason: "asks about the model's prompt or conversation",
  },
  {
    class: 'system-prompt-leak',
    re: /\bthe prompt (?:says|said|asks|asked|tells|told|states|stated|requires|required|instructs|instructed|above|below|given|you)\b/,
    reason: "talks about the model's prompt",
  },
  {
    class: 'system-prompt-leak',
    re: /\b(?:words|text|lines|sentences|content|everything|instructions) (?:that )?(?:came|come|comes|appear|appears|appeared|is|was|were|stood) (?:before|above|prior to) (?:the|this|these|your)\b|\b(?:the )?source excerpts? (?:above|below|given|provided|you)\b/,
    reason: 'asks to repeat what came before in the prompt',
  },
  {
    class: 'system-prompt-leak',
    re: /\b(?:what|everything|anything|all) (?:were you|you were|have you been|you have been|you ve been|did they) (?:told|given|instructed|asked|shown)\b|\bbefore (?:this|the) (?:conversation|chat|session|dialogue) (?:began|started|begun)\b/,
    reason: 'asks what the model was told',
  },
  {
    class: 'system-prompt-leak',
    re: /\b(?:my|its|the model s|your) (?:configuration|programming|system prompt|hidden instructions|initial instructions|operating instructions|setup)\b|\b(?:reveal|disclose|expose|leak) (?:the |my |your |its )?(?:following |hidden |secret |internal )?(?:rules|instructions|prompt|configuration|guidelines)\b/,
    reason: "talks about the model's configuration or hidden rules",
  },
  // the model talking about itself
  {
    class: 'model-self-reference',
    re: /(?<!\b(?:phase|type|grade|stage|class|part|cohort|arm|period|table|figure|appendix|section|step|level|tier|category|group|schedule|study|visit|day|week|trial|amendment|protocol|annex|chapter|volume|module|schedule|list|item|criterion|criteria) )\bi (?:am|was|have|had|will|would|can|cannot|can t|could|should|must|think|believe|feel|guess|hope|know|apologi[sz]e|assure|promise|recommend|suggest|did|do|don t|won t|need|want|understand|see|note|cannot)\b|\b(?:me|my|mine|myself|i m|i ve|i ll|i d)\b/,
    reason: 'the model speaks in the first person',
  },
  {
    class: 'model-self-reference',
    re: /\btrust me\b|\bbelieve me\b|\btake my word\b|\bi promise\b|\bi assure you\b/,
    reason: 'the model vouches for itself instead of citing sources',
  },
  {
    class: 'model-self-reference',
    re: new RegExp(`\\bas an? ${AI}\\b|\\bi m an? ${AI}\\b|\\bi am an? ${AI}\\b`),
    reason: 'the model talks about itself as an AI',
  },
  {
    class: 'model-self-reference',
    re: /\bi (?:cannot|can t|cant|can not|am unable to|m unable to|am not able to|won t|will not|must decline to|refuse to) (?:help|assist|comply|provide|do that|do this|fulfil|fulfill|complete|verify|answer|write|generate|continue|produce)\b/,
    reason: 'the model refuses or declines',
  },
  {
    class: 'model-self-reference',
    re: /\bi m sorry but\b|\bi am sorry but\b|\bi apologi[sz]e\b|\bmy apologies\b|\bsorry i (?:can|cannot|can t|am)\b/,
    reason: 'the model apologises',
  },
  {
    class: 'model-self-reference',
    re: /\b(?:my|the model s) (?:knowledge cut ?off|training (?:data|cut ?off)|cut ?off date)\b|\bas of my (?:last|latest) (?:update|training|knowledge)\b|\bi (?:do not|don t) have (?:access|the ability|real time|browsing)\b/,
    reason: 'the model talks about its training or abilities',
  },
  {
    class: 'model-self-reference',
    re: /\bhere is what i (?:would )?(?:guess|think|imagine|believe)\b|\bi (?:would )?guess\b|\bi (?:think|believe|feel|suspect) (?:that )?(?:the|this|these|it)\b/,
    reason: 'the model speculates in the first person',
  },
  {
    class: 'model-self-reference',
    re: /\b(?:certainly|sure|of course|absolutely) (?:here is|here s|i can|i will|i ll)\b|\bhere is (?:the|your) (?:section|json|answer|response|output)\b|\bi hope this helps\b|\blet me know if\b/,
    reason: 'chat filler addressed to a user instead of report text',
  },
  // the reviewer addressed
  {
    class: 'reviewer-manipulation',
    re: /\b(?:approve|accept|sign off|pass|publish)(?: \w+){0,3} (?:without|with no) (?:review|reviewing|reading|checking|verification|verifying|looking|changes|question|questions)\b/,
    reason: 'asks for approval without review',
  },
  {
    class: 'reviewer-manipulation',
    re: /\b(?:no need|not necessary|unnecessary|needless) (?:for you )?to (?:review|check|verify|read|look at|validate|inspect)\b|\b(?:has|have|was|were) (?:already )?been (?:pre ?approved|approved in advance|verified by (?:the )?(?:sponsor|system|admin|administrator|qa))\b/,
    reason: 'tells the reviewer that review is not needed',
  },
  {
    class: 'reviewer-manipulation',
    re: /\b(?:dear|attention|note to|message to|hey|hello|hi) (?:the )?(?:reviewer|reviewers|approver|approvers|human|operator|admin|administrator|editor)\b|\b(?:reviewer|reviewers|approver|approvers)(?: \w+){0,1} (?:should|must|need to|needs to|are asked to|is asked to|please) (?:approve|accept|skip|ignore|sign|trust|not (?:check|verify|review|read))\b/,
    reason: 'speaks directly to the reviewer',
  },
  {
    class: 'reviewer-manipulation',
    re: /\b(?:reviewers?|approvers?|auditors?|regulators?|the reader|readers)\b(?: \w+){0,6} (?:skip|approve|ignore|trust|sign off|wave through|no need|(?:must|should|need) not (?:question|check|verify|review|doubt|examine|look))\b/,
    reason: 'speaks directly to the reviewer',
  },
  {
    class: 'reviewer-manipulation',
    on: 'text',
    re: /(?:^|[\n.!?:] ?|\b(?:please|kindly|just|simply) )(?:approve|sign off|accept|publish) (?:this|it|quickly|now|immediately|asap|right away|the (?:section|report|text|draft))\b/,
    reason: 'asks for approval',
  },
  {
    class: 'reviewer-manipulation',
    re: /\b(?:must|should|shall|is to|has to|needs to) be (?:approved|accepted|signed off|published|kept|left|passed) (?:as written|as is|unchanged|without (?:changes|edits|review|modification|question)|verbatim|immediately)\b|(?<!\b(?:patients|participants|investigators|sites|subjects|they|who|staff|pharmacists) )\b(?:do not|don t|never) (?:edit|modify|alter|verify|check|review|question|change) (?:this|these|them|it|the (?:figures|numbers|section|text|results))\b/,
    reason: 'asks the reviewer not to check or change the text',
  },
  {
    class: 'reviewer-manipulation',
    re: /\bwhoever (?:reviews|reads|approves|checks|signs)\b|\b(?:sponsor|company|marketing) (?:statement|approved text|mandated text|request|requested|wants|insists)\b|\bas the sponsor (?:requested|asked|wants|wishes|instructed)\b/,
    reason: 'speaks for the sponsor or to the reviewer',
  },
  {
    class: 'exfiltration',
    re: /\b(?:reviewer|reviewers|user|users|admin|operator|approver)(?: s)? (?:e ?mail|email address|password|phone|address|credentials|identity)\b|\b(?:reviewer|review|api|session|auth|bearer|refresh) (?:token|tokens|key|keys|link|cookie|cookies|secret|password|credentials?)\b|\b(?:access|secret|private) (?:token|tokens|cookie|cookies|password|credentials?)\b|\b(?:context window|environment variables?|env vars?|api keys?|passwords?)\b/,
    reason: 'asks for secrets (tokens, keys, review links, the context)',
  },
  {
    class: 'reviewer-manipulation',
    re: /\bmark (?:\w+ ){0,3}as (?:approved|accepted|reviewed|verified|final|passed|signed off)\b/,
    reason: 'asks to mark sections approved',
  },
  // encoded payloads asked for
  {
    class: 'encoded-payload',
    re: /\b(?:base ?64|rot ?13|hex|hexadecimal|url ?encoded|percent encoded|morse)(?: \w+){0,3} (?:decode|decoded|decoding|encode|encoded|encoding|string|payload|text|message|below|following)\b|\b(?:decode|decoding|deobfuscate) (?:this|the following|the string|it)\b/,
    reason: 'asks for encoding or decoding of hidden text',
  },
];
