from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/feed.xml'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_site = resolve('site')
    l_0_feed_id = resolve('feed_id')
    l_0_base_url = resolve('base_url')
    l_0_atom_date = resolve('atom_date')
    l_0_cards = resolve('cards')
    l_0_extra_entries = resolve('extra_entries')
    pass
    yield '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'language') or 'en-GB'))
    yield '">\n<title>'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '</title>\n'
    if environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description'):
        pass
        yield '<subtitle>'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description'))
        yield '</subtitle>\n'
    yield '<id>'
    yield escape(environment.call(context, (undefined(name='feed_id') if l_0_feed_id is missing else l_0_feed_id), ((undefined(name='base_url') if l_0_base_url is missing else l_0_base_url) or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))))
    yield '</id>\n'
    if (undefined(name='base_url') if l_0_base_url is missing else l_0_base_url):
        pass
        yield '<link rel="self" type="application/atom+xml" href="'
        yield escape(environment.call(context, environment.getattr((undefined(name='base_url') if l_0_base_url is missing else l_0_base_url), 'rstrip'), '/'))
        yield '/feed.xml"/>\n<link rel="alternate" type="text/html" href="'
        yield escape(environment.call(context, environment.getattr((undefined(name='base_url') if l_0_base_url is missing else l_0_base_url), 'rstrip'), '/'))
        yield '/index.html"/>\n'
    else:
        pass
        yield '<link rel="alternate" type="text/html" href="index.html"/>\n'
    yield '<updated>'
    yield escape(environment.call(context, (undefined(name='atom_date') if l_0_atom_date is missing else l_0_atom_date), (environment.getattr(environment.getitem((undefined(name='cards') if l_0_cards is missing else l_0_cards), 0), 'updated') if (undefined(name='cards') if l_0_cards is missing else l_0_cards) else '')))
    yield '</updated>\n<author><name>'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation') or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))
    yield '</name></author>\n'
    for l_1_card in (undefined(name='cards') if l_0_cards is missing else l_0_cards):
        l_1_entry_id = resolve('entry_id')
        _loop_vars = {}
        pass
        yield '<entry>\n<title>'
        yield escape(environment.getattr(l_1_card, 'title'))
        yield '</title>\n<link rel="alternate" type="text/html" href="'
        if (undefined(name='base_url') if l_0_base_url is missing else l_0_base_url):
            pass
            yield escape(environment.call(context, environment.getattr((undefined(name='base_url') if l_0_base_url is missing else l_0_base_url), 'rstrip'), '/', _loop_vars=_loop_vars))
            yield '/'
        yield escape(environment.getattr(l_1_card, 'page'))
        yield '"/>\n<id>'
        yield escape(environment.call(context, (undefined(name='entry_id') if l_1_entry_id is missing else l_1_entry_id), environment.getattr(l_1_card, 'id'), _loop_vars=_loop_vars))
        yield '</id>\n<updated>'
        yield escape(environment.call(context, (undefined(name='atom_date') if l_0_atom_date is missing else l_0_atom_date), environment.getattr(l_1_card, 'updated'), _loop_vars=_loop_vars))
        yield '</updated>\n<summary>'
        yield escape((environment.getattr(l_1_card, 'summary') or environment.getattr(l_1_card, 'title')))
        yield '</summary>\n'
        if environment.getattr(l_1_card, 'service'):
            pass
            yield '<category term="'
            yield escape(environment.getattr(l_1_card, 'service'))
            yield '"/>\n'
        for l_2_tag in environment.getattr(l_1_card, 'tags'):
            _loop_vars = {}
            pass
            yield '<category term="'
            yield escape(l_2_tag)
            yield '"/>\n'
        l_2_tag = missing
        yield '</entry>\n'
    l_1_card = l_1_entry_id = missing
    for l_1_page in ((undefined(name='extra_entries') if l_0_extra_entries is missing else l_0_extra_entries) or []):
        _loop_vars = {}
        pass
        yield '<entry>\n<title>'
        yield escape(environment.getattr(l_1_page, 'title'))
        yield '</title>\n<link rel="alternate" type="text/html" href="'
        if (undefined(name='base_url') if l_0_base_url is missing else l_0_base_url):
            pass
            yield escape(environment.call(context, environment.getattr((undefined(name='base_url') if l_0_base_url is missing else l_0_base_url), 'rstrip'), '/', _loop_vars=_loop_vars))
            yield '/'
        yield escape(environment.getattr(l_1_page, 'path'))
        yield '"/>\n<id>'
        yield escape(environment.call(context, (undefined(name='feed_id') if l_0_feed_id is missing else l_0_feed_id), markup_join(('page:', environment.getattr(l_1_page, 'path'), )), _loop_vars=_loop_vars))
        yield '</id>\n<updated>'
        yield escape(environment.call(context, (undefined(name='atom_date') if l_0_atom_date is missing else l_0_atom_date), environment.call(context, environment.getattr(environment.getattr(l_1_page, 'updated'), 'isoformat'), _loop_vars=_loop_vars), _loop_vars=_loop_vars))
        yield '</updated>\n<summary>'
        yield escape((environment.getattr(l_1_page, 'intro') or environment.getattr(l_1_page, 'title')))
        yield '</summary>\n'
        if environment.getattr(l_1_page, 'service'):
            pass
            yield '<category term="'
            yield escape(environment.getattr(l_1_page, 'service'))
            yield '"/>\n'
        yield '</entry>\n'
    l_1_page = missing
    yield '</feed>\n'

blocks = {}
debug_info = '2=18&3=20&4=22&6=28&7=30&8=35&11=41&12=43&13=45&15=50&16=52&17=58&18=60&19=62&20=64&22=69&26=78&28=82&29=84&30=90&31=92&32=94&33=96'