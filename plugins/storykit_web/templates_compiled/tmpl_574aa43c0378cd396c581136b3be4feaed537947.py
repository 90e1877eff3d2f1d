from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/section.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    l_0_page = resolve('page')
    l_0_page_title = missing
    pass
    parent_template = environment.get_template('web/base.html', 'web/section.html')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    l_0_page_title = environment.getattr((undefined(name='page') if l_0_page is missing else l_0_page), 'title')
    context.vars['page_title'] = l_0_page_title
    context.exported_vars.add('page_title')
    yield from parent_template.root_render_func(context)

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_page = resolve('page')
    pass
    yield '<article class="reading-width">\n<h1>'
    yield escape(environment.getattr((undefined(name='page') if l_0_page is missing else l_0_page), 'title'))
    yield '</h1>\n'
    if environment.getattr((undefined(name='page') if l_0_page is missing else l_0_page), 'intro'):
        pass
        yield '<p class="lead">'
        yield escape(environment.getattr((undefined(name='page') if l_0_page is missing else l_0_page), 'intro'))
        yield '</p>'
    l_1_loop = missing
    for l_1_section, l_1_loop in LoopContext(environment.getattr((undefined(name='page') if l_0_page is missing else l_0_page), 'sections'), undefined):
        _loop_vars = {}
        pass
        yield '<section aria-labelledby="section-'
        yield escape(environment.getattr(l_1_loop, 'index'))
        yield '">\n<h2 id="section-'
        yield escape(environment.getattr(l_1_loop, 'index'))
        yield '">'
        yield escape(environment.getattr(l_1_section, 'heading'))
        yield '</h2>\n'
        if environment.getattr(l_1_section, 'intro'):
            pass
            yield '<p>'
            yield escape(environment.getattr(l_1_section, 'intro'))
            yield '</p>'
        for l_2_item in environment.getattr(l_1_section, 'items'):
            _loop_vars = {}
            pass
            yield '<div class="page-item">\n<h3>'
            yield escape(environment.getattr(l_2_item, 'heading'))
            yield '</h3>\n'
            if environment.getattr(l_2_item, 'text'):
                pass
                yield '<p>'
                yield escape(environment.getattr(l_2_item, 'text'))
                yield '</p>'
            if environment.getattr(l_2_item, 'facts'):
                pass
                yield '<ul class="page-item__facts">'
                for l_3_fact in environment.getattr(l_2_item, 'facts'):
                    _loop_vars = {}
                    pass
                    yield '<li>'
                    yield escape(l_3_fact)
                    yield '</li>'
                l_3_fact = missing
                yield '</ul>'
            if environment.getattr(l_2_item, 'links'):
                pass
                yield '<ul class="page-item__links">'
                for l_3_link in environment.getattr(l_2_item, 'links'):
                    l_3_root = resolve('root')
                    _loop_vars = {}
                    pass
                    yield '<li><a href="'
                    yield escape((undefined(name='root') if l_3_root is missing else l_3_root))
                    yield escape(environment.getattr(l_3_link, 'path'))
                    yield '">'
                    yield escape(environment.getattr(l_3_link, 'label'))
                    yield '</a></li>'
                l_3_link = l_3_root = missing
                yield '</ul>'
            yield '</div>\n'
        l_2_item = missing
        yield '</section>\n'
    l_1_loop = l_1_section = missing
    if environment.getattr((undefined(name='page') if l_0_page is missing else l_0_page), 'links'):
        pass
        yield '<ul class="page-links">'
        for l_1_link in environment.getattr((undefined(name='page') if l_0_page is missing else l_0_page), 'links'):
            l_1_root = resolve('root')
            _loop_vars = {}
            pass
            yield '<li><a href="'
            yield escape((undefined(name='root') if l_1_root is missing else l_1_root))
            yield escape(environment.getattr(l_1_link, 'path'))
            yield '">'
            yield escape(environment.getattr(l_1_link, 'label'))
            yield '</a></li>'
        l_1_link = l_1_root = missing
        yield '</ul>\n'
    yield '</article>\n'

blocks = {'content': block_content}
debug_info = '2=14&3=17&4=22&6=32&7=34&8=40&9=44&10=46&11=50&12=55&14=59&15=61&16=66&17=77&22=96&23=99'