"""The tokenizer LLM.get_tokenizer() returns: the engine's C++ tokenizer with the subset of the
transformers tokenizer interface that vLLM users call (defaults as in transformers)."""



class Tokenizer:
    def __init__(self, llm):
        self._llm = llm
        self._engine = llm._engine

    def encode(self, text, add_special_tokens=True):
        return self._engine.encode(text, add_special_tokens)

    def decode(self, token_ids, skip_special_tokens=False, spaces_between_special_tokens=True):
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        return self._engine.decode(list(token_ids), skip_special_tokens, spaces_between_special_tokens)

    def __call__(self, text, add_special_tokens=True):
        if isinstance(text, str):
            return {"input_ids": self.encode(text, add_special_tokens)}
        return {"input_ids": [self.encode(t, add_special_tokens) for t in text]}

    def convert_ids_to_tokens(self, ids):
        if isinstance(ids, int):
            return self._engine.id_to_token(ids)
        return [self._engine.id_to_token(i) for i in ids]

    def apply_chat_template(self, conversation, tools=None, add_generation_prompt=False,
                            continue_final_message=False, tokenize=True, chat_template=None,
                            **kwargs):
        """Renders like transformers (tokenize=True returns ids, encoded without special
        tokens since the template already holds them); extra kwargs go to the template."""
        text = self._llm._render_chat(conversation, chat_template=chat_template,
                                      add_generation_prompt=add_generation_prompt,
                                      continue_final_message=continue_final_message,
                                      tools=tools, chat_template_kwargs=kwargs)
        return self.encode(text, add_special_tokens=False) if tokenize else text

    @property
    def eos_token_id(self):
        return self._engine.eos_token_id

    @property
    def bos_token_id(self):
        return self._engine.bos_token_id

    @property
    def eos_token(self):
        i = self.eos_token_id
        return None if i is None else self._engine.id_to_token(i)

    @property
    def bos_token(self):
        i = self.bos_token_id
        return None if i is None else self._engine.id_to_token(i)

    @property
    def vocab_size(self):
        return self._engine.tokenizer_vocab_size

    def __len__(self):
        return self._engine.tokenizer_vocab_size

    def __repr__(self):
        return f"pagellm.Tokenizer(vocab_size={self.vocab_size})"
