from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/sitemap.xml'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_pages = resolve('pages')
    l_0_cards = resolve('cards')
    pass
    yield '<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    for l_1_page in (undefined(name='pages') if l_0_pages is missing else l_0_pages):
        l_1_base_url = resolve('base_url')
        _loop_vars = {}
        pass
        yield '<url><loc>'
        yield escape(environment.call(context, environment.getattr((undefined(name='base_url') if l_1_base_url is missing else l_1_base_url), 'rstrip'), '/', _loop_vars=_loop_vars))
        yield '/'
        yield escape(l_1_page)
        yield '</loc></url>\n'
    l_1_page = l_1_base_url = missing
    for l_1_card in (undefined(name='cards') if l_0_cards is missing else l_0_cards):
        l_1_base_url = resolve('base_url')
        _loop_vars = {}
        pass
        yield '<url><loc>'
        yield escape(environment.call(context, environment.getattr((undefined(name='base_url') if l_1_base_url is missing else l_1_base_url), 'rstrip'), '/', _loop_vars=_loop_vars))
        yield '/'
        yield escape(environment.getattr(l_1_card, 'page'))
        yield '</loc>'
        if environment.getattr(l_1_card, 'updated'):
            pass
            yield '<lastmod>'
            yield escape(environment.getattr(l_1_card, 'updated'))
            yield '</lastmod>'
        yield '</url>\n'
    l_1_card = l_1_base_url = missing
    yield '</urlset>\n'

blocks = {}
debug_info = '3=14&4=19&6=24&7=29'